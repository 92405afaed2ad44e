//! The client-side limits and metrics of kubernetes.md §8 as one tower layer on kube's HTTP
//! stack: `apiserver_qps`/`apiserver_burst` (token bucket), `apiserver_max_inflight` (a cap on
//! requests waiting for their response headers) and the `rest_client` metrics.
//!
//! kube's `Client` drives its service through a `tower::buffer::Buffer`: one worker calls
//! `poll_ready` and then `call`, request after request. Waiting in `poll_ready` therefore
//! queues requests in order, like client-go's rate limiter. A slot of the in-flight cap is held
//! by the response future, which completes when the headers arrive: a watch gives its slot
//! back as soon as the API server has accepted it, while its event stream goes on (§8).

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_util::future::BoxFuture;
use http::{Request, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::PollSemaphore;
use tower_layer::Layer;
use tower_service::Service;

use super::rest_metrics::{RestClientMetrics, ResultLabels, VerbHostLabels};
use super::token_bucket::TokenBucket;

/// The limits, as the options gave them. `None` = no limit.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ClientLimits {
    /// (qps, burst) for the token bucket.
    pub(crate) rate: Option<(f64, u32)>,
    pub(crate) max_inflight: Option<usize>,
}

impl ClientLimits {
    /// From the options (kubernetes.md §8). Unset or 0 `apiserver_qps` means kube-rs's default:
    /// no client-side rate limit (client-go would apply 5 qps / burst 10; ours is the client
    /// default the contract names). Unset or 0 burst with a qps is client-go's default burst, 10.
    /// `apiserver_max_inflight` 0 or unset: unlimited.
    pub(crate) fn from_options(
        qps: Option<f32>,
        burst: Option<u32>,
        max_inflight: Option<u32>,
    ) -> ClientLimits {
        const CLIENT_GO_DEFAULT_BURST: u32 = 10;
        let rate = qps.filter(|q| q.is_finite() && *q > 0.0).map(|q| {
            let burst = burst.filter(|b| *b > 0).unwrap_or(CLIENT_GO_DEFAULT_BURST);
            (f64::from(q), burst)
        });
        let max_inflight = max_inflight
            .filter(|m| *m > 0)
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        ClientLimits { rate, max_inflight }
    }
}

#[derive(Clone)]
pub(crate) struct ClientLayer {
    limits: ClientLimits,
    metrics: Arc<RestClientMetrics>,
    /// The `host` label: the API server's `host:port` as configured.
    host: Arc<str>,
}

impl ClientLayer {
    pub(crate) fn new(
        limits: ClientLimits,
        metrics: Arc<RestClientMetrics>,
        host: Arc<str>,
    ) -> ClientLayer {
        ClientLayer {
            limits,
            metrics,
            host,
        }
    }
}

impl<S> Layer<S> for ClientLayer {
    type Service = LimitedClient<S>;

    fn layer(&self, inner: S) -> LimitedClient<S> {
        LimitedClient {
            inner,
            bucket: self
                .limits
                .rate
                .map(|(qps, burst)| TokenBucket::new(qps, burst)),
            slots: self
                .limits
                .max_inflight
                .map(|n| PollSemaphore::new(Arc::new(Semaphore::new(n)))),
            next: NextCall::default(),
            metrics: self.metrics.clone(),
            host: self.host.clone(),
        }
    }
}

/// What `poll_ready` has secured for the next `call`.
#[derive(Default)]
struct NextCall {
    waiting_since: Option<Instant>,
    /// `Some` once the token bucket let it through: how long that took.
    rate_wait: Option<Duration>,
    permit: Option<OwnedSemaphorePermit>,
}

pub(crate) struct LimitedClient<S> {
    inner: S,
    bucket: Option<TokenBucket>,
    slots: Option<PollSemaphore>,
    next: NextCall,
    metrics: Arc<RestClientMetrics>,
    host: Arc<str>,
}

impl<S, B, R> Service<Request<B>> for LimitedClient<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<R>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        let since = *self.next.waiting_since.get_or_insert_with(Instant::now);
        if self.next.rate_wait.is_none() {
            if let Some(bucket) = &mut self.bucket {
                ready!(bucket.poll_take(cx));
            }
            self.next.rate_wait = Some(since.elapsed());
        }
        if self.next.permit.is_none()
            && let Some(slots) = &mut self.slots
        {
            // `None` would mean a closed semaphore; ours is never closed, so it cannot happen,
            // and if it did the request would simply go out unlimited.
            self.next.permit = ready!(slots.poll_acquire(cx));
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let next = std::mem::take(&mut self.next);
        let verb = request.method().as_str().to_owned();
        let labels = VerbHostLabels {
            host: self.host.clone(),
            verb: verb.clone(),
        };
        self.metrics
            .rate_limiter_duration
            .get_or_create(&labels)
            .observe(next.rate_wait.unwrap_or_default().as_secs_f64());
        let metrics = self.metrics.clone();
        let host = self.host.clone();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(record(
            response,
            next.permit,
            metrics,
            labels,
            host,
            verb,
            started,
        ))
    }
}

async fn record<R, E>(
    response: impl Future<Output = Result<Response<R>, E>>,
    permit: Option<OwnedSemaphorePermit>,
    metrics: Arc<RestClientMetrics>,
    labels: VerbHostLabels,
    host: Arc<str>,
    method: String,
    started: Instant,
) -> Result<Response<R>, E> {
    let result = response.await;
    // Headers are in (or the request failed): the in-flight slot is free again.
    drop(permit);
    metrics
        .request_duration
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    let code = match &result {
        Ok(response) => response.status().as_str().to_owned(),
        // client-go's label when no HTTP response was obtained.
        Err(_) => "<error>".to_owned(),
    };
    metrics
        .requests
        .get_or_create(&ResultLabels { code, host, method })
        .inc();
    result
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::FutureExt;
    use prometheus_client::registry::Registry;
    use tokio::sync::oneshot;

    use plugin::metrics::MetricSet;

    use super::*;

    /// An inner service whose responses the test releases one by one; it counts the requests
    /// that are waiting for their "headers".
    #[derive(Clone, Default)]
    struct Gate {
        pending: Arc<Mutex<Vec<oneshot::Sender<u16>>>>,
        waiting: Arc<AtomicUsize>,
        most_waiting: Arc<AtomicUsize>,
    }

    impl Gate {
        fn release_one(&self, status: u16) -> bool {
            let sender = {
                let mut pending = self.pending.lock().expect("not poisoned");
                if pending.is_empty() {
                    return false;
                }
                pending.remove(0)
            };
            sender.send(status).is_ok()
        }
    }

    impl Service<Request<()>> for Gate {
        type Response = Response<()>;
        type Error = &'static str;
        type Future = BoxFuture<'static, Result<Response<()>, &'static str>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Request<()>) -> Self::Future {
            let (tx, rx) = oneshot::channel();
            self.pending.lock().expect("not poisoned").push(tx);
            let now = self.waiting.fetch_add(1, Ordering::SeqCst) + 1;
            self.most_waiting.fetch_max(now, Ordering::SeqCst);
            let waiting = self.waiting.clone();
            async move {
                let status = rx.await;
                waiting.fetch_sub(1, Ordering::SeqCst);
                match status {
                    Ok(0) | Err(_) => Err("connection refused"),
                    Ok(code) => {
                        let mut response = Response::new(());
                        *response.status_mut() =
                            http::StatusCode::from_u16(code).map_err(|_| "bad status")?;
                        Ok(response)
                    }
                }
            }
            .boxed()
        }
    }

    fn metrics() -> (Arc<RestClientMetrics>, Registry) {
        let mut registry = Registry::default();
        (
            Arc::new(RestClientMetrics::register(&mut registry)),
            registry,
        )
    }

    fn encode(registry: &Registry) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, registry).expect("encodes");
        out
    }

    async fn send(
        service: &mut LimitedClient<Gate>,
    ) -> BoxFuture<'static, Result<Response<()>, &'static str>> {
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .expect("ready");
        service.call(Request::get("/api/v1/services").body(()).expect("request"))
    }

    #[tokio::test]
    async fn max_inflight_holds_requests_until_headers_arrive() {
        let gate = Gate::default();
        let (metrics, _registry) = metrics();
        let limits = ClientLimits::from_options(None, None, Some(2));
        let mut service = ClientLayer::new(limits, metrics, "api:443".into()).layer(gate.clone());

        let first = tokio::spawn(send(&mut service).await);
        let second = tokio::spawn(send(&mut service).await);
        // The third cannot become ready while two are waiting for headers.
        let mut third_ready = Box::pin(std::future::poll_fn(|cx| service.poll_ready(cx)));
        assert!((&mut third_ready).now_or_never().is_none());
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 2);

        // Headers of the first arrive: its slot is free, the third goes out.
        assert!(gate.release_one(200));
        first.await.expect("joined").expect("response");
        third_ready.await.expect("ready");
        let third =
            tokio::spawn(service.call(Request::get("/api/v1/pods").body(()).expect("request")));
        // Bounded wait for the spawned third request to reach the gate.
        for _ in 0..100_000 {
            if gate.pending.lock().expect("not poisoned").len() == 2 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(gate.waiting.load(Ordering::SeqCst), 2);
        assert!(gate.release_one(200));
        assert!(gate.release_one(200));
        second.await.expect("joined").expect("response");
        third.await.expect("joined").expect("response");
        assert_eq!(gate.most_waiting.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_limit_spaces_requests_and_is_measured() {
        let gate = Gate::default();
        let (metrics, registry) = metrics();
        let limits = ClientLimits::from_options(Some(1.0), Some(1), None);
        let mut service = ClientLayer::new(limits, metrics, "api:443".into()).layer(gate.clone());
        let start = Instant::now();
        let first = send(&mut service).await;
        assert_eq!(Instant::now(), start);
        let second = send(&mut service).await;
        assert!(Instant::now().duration_since(start) >= Duration::from_secs(1));
        assert!(gate.release_one(200));
        assert!(gate.release_one(0));
        first.await.expect("response");
        assert!(second.await.is_err());
        let text = encode(&registry);
        for line in [
            r#"coredns_kubernetes_rest_client_requests_total{code="200",host="api:443",method="GET"} 1"#,
            r#"coredns_kubernetes_rest_client_requests_total{code="<error>",host="api:443",method="GET"} 1"#,
            r#"coredns_kubernetes_rest_client_rate_limiter_duration_seconds_count{host="api:443",verb="GET"} 2"#,
            // One of the two waited a full second: it lands above the 0.5 bucket.
            r#"coredns_kubernetes_rest_client_rate_limiter_duration_seconds_bucket{le="0.5",host="api:443",verb="GET"} 1"#,
            r#"coredns_kubernetes_rest_client_request_duration_seconds_count{host="api:443",verb="GET"} 2"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn options_to_limits() {
        let cases = [
            ((None, None, None), ClientLimits::default()),
            ((Some(0.0), Some(5), Some(0)), ClientLimits::default()),
            (
                (Some(5.0), None, None),
                ClientLimits {
                    rate: Some((5.0, 10)),
                    max_inflight: None,
                },
            ),
            (
                (Some(50.0), Some(100), Some(3)),
                ClientLimits {
                    rate: Some((50.0, 100)),
                    max_inflight: Some(3),
                },
            ),
        ];
        for ((qps, burst, inflight), expected) in cases {
            assert_eq!(
                ClientLimits::from_options(qps, burst, inflight),
                expected,
                "{qps:?} {burst:?} {inflight:?}"
            );
        }
    }
}
