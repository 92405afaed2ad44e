//! The `/ready` endpoint (cli-and-endpoints.md §6): `200 OK` once every readiness-capable
//! plugin of the blocks that contain `ready` reports ready, else `503` naming the others.

use std::sync::Arc;

use plugin::http::{HttpRequest, HttpResponse, HttpRole, HttpRoute};
use plugin::readiness::Readiness;

use crate::NAME;

pub const PATH: &str = "/ready";

pub fn route(addr: &str, readiness: Arc<Readiness>) -> HttpRoute {
    HttpRoute {
        addr: addr.to_string(),
        path: PATH,
        role: HttpRole::Ready,
        handler: Arc::new(move |_req: &HttpRequest| answer(&readiness)),
    }
}

pub fn answer(readiness: &Readiness) -> HttpResponse {
    // A request racing with shutdown or a reload (CoreDNS's `done` flag).
    if readiness.is_shutting_down() {
        return HttpResponse::text(503, "Shutting down");
    }
    let waiting = readiness.not_ready();
    if waiting.is_empty() {
        return HttpResponse::text(200, "OK");
    }
    // Sorted (not_ready's contract), comma-joined, no spaces: `kubernetes,other`.
    let names = waiting.join(",");
    // CoreDNS logs `%q` of the list; plugin names are plain ASCII, where Rust's `{:?}` quotes
    // exactly as Go's `%q` does.
    plugin::log::info(Some(NAME), format_args!("Plugins not ready: {names:?}"));
    HttpResponse::text(503, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin::readiness::Monitor;
    use plugin::{Next, Plugin, Reply, Request};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A plugin whose readiness the test sets, counting how often it is asked.
    struct Fake {
        name: &'static str,
        ready: AtomicBool,
        asked: AtomicUsize,
    }

    impl Fake {
        fn new(name: &'static str, ready: bool) -> Arc<Fake> {
            Arc::new(Fake {
                name,
                ready: AtomicBool::new(ready),
                asked: AtomicUsize::new(0),
            })
        }

        fn set(&self, ready: bool) {
            self.ready.store(ready, Ordering::SeqCst);
        }

        fn asked(&self) -> usize {
            self.asked.load(Ordering::SeqCst)
        }
    }

    impl Plugin for Fake {
        fn name(&self) -> &'static str {
            self.name
        }

        fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
            next.serve(req)
        }

        fn ready(&self) -> bool {
            self.asked.fetch_add(1, Ordering::SeqCst);
            self.ready.load(Ordering::SeqCst)
        }
    }

    fn readiness(plugins: &[Arc<Fake>], monitor: Monitor) -> Readiness {
        let r = Readiness::new();
        let plugins: Vec<Arc<dyn Plugin>> = plugins
            .iter()
            .map(|p| p.clone() as Arc<dyn Plugin>)
            .collect();
        r.register(&plugins);
        r.set_monitor(monitor);
        r
    }

    fn status(r: &Readiness) -> (u16, String) {
        let resp = answer(r);
        assert_eq!(resp.content_type, "text/plain; charset=utf-8");
        (resp.status, String::from_utf8(resp.body.to_vec()).unwrap())
    }

    #[test]
    fn answers_by_readiness() {
        // (plugins with their readiness, status, body)
        type Case<'c> = (&'c [(&'static str, bool)], u16, &'c str);
        let cases: &[Case] = &[
            (&[], 200, "OK"),
            (&[("whoami", true)], 200, "OK"),
            (&[("kubernetes", false)], 503, "kubernetes"),
            (
                &[("kubernetes", false), ("forward", true)],
                503,
                "kubernetes",
            ),
            (
                &[("zeta", false), ("kubernetes", false), ("alpha", false)],
                503,
                "alpha,kubernetes,zeta",
            ),
        ];
        for (plugins, code, body) in cases {
            let fakes: Vec<Arc<Fake>> = plugins.iter().map(|(n, r)| Fake::new(n, *r)).collect();
            let r = readiness(&fakes, Monitor::UntilReady);
            assert_eq!(status(&r), (*code, body.to_string()), "{plugins:?}");
        }
    }

    #[test]
    fn shutting_down_wins() {
        let r = readiness(&[Fake::new("kubernetes", true)], Monitor::UntilReady);
        r.set_shutting_down();
        assert_eq!(status(&r), (503, "Shutting down".to_string()));
    }

    #[test]
    fn until_ready_stops_asking_a_ready_plugin() {
        let k8s = Fake::new("kubernetes", false);
        let r = readiness(std::slice::from_ref(&k8s), Monitor::UntilReady);
        assert_eq!(status(&r).0, 503);
        k8s.set(true);
        assert_eq!(status(&r).0, 200);
        k8s.set(false);
        assert_eq!(status(&r).0, 200, "ready once is ready for good");
        assert_eq!(k8s.asked(), 2);
    }

    #[test]
    fn continuously_asks_every_time() {
        let k8s = Fake::new("kubernetes", true);
        let r = readiness(std::slice::from_ref(&k8s), Monitor::Continuously);
        assert_eq!(status(&r).0, 200);
        k8s.set(false);
        assert_eq!(status(&r), (503, "kubernetes".to_string()));
        assert_eq!(k8s.asked(), 2);
    }

    #[test]
    fn the_route_serves_the_instance_readiness() {
        let k8s = Fake::new("kubernetes", false);
        let r = Arc::new(readiness(std::slice::from_ref(&k8s), Monitor::UntilReady));
        let route = route(":8181", r);
        assert_eq!((route.path, route.role), ("/ready", HttpRole::Ready));
        assert_eq!((route.handler)(&HttpRequest::default()).status, 503);
        k8s.set(true);
        assert_eq!((route.handler)(&HttpRequest::default()).status, 200);
    }
}
