//! The `template` handler: matching (plugins-resolution.md §6.2) and the reply (§6.3).

use std::sync::Arc;

use hickory_proto::op::{Edns, ResponseCode};
use hickory_proto::rr::rdata::opt::EdnsOption;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use regex::{Captures, Regex};

use plugin::names::{ClassName, TypeName};
use plugin::zones::longest_match;
use plugin::{Error, Failure, Next, Plugin, Reply, Request, Response, Upstream};

use crate::NAME;
use crate::data::Data;
use crate::metrics::{FailureLabels, MatchLabels, TemplateMetrics};
use crate::options::{Config, ExtendedError, Rule};
use crate::rr_text::{RrError, parse_rr};
use crate::text_template::{ExecError, Template};

/// RFC 8914 Extended DNS Error option code.
const EDE_OPTION: u16 = 15;

pub struct TemplateHandler {
    config: Config,
    upstream: Upstream,
    metrics: Arc<TemplateMetrics>,
}

/// Why a matched template produced no reply (SERVFAIL, logged by `errors`).
#[derive(Debug, thiserror::Error)]
enum RenderError {
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error("{section} template rendered {text:?}: {error}")]
    Rr {
        section: &'static str,
        text: String,
        error: RrError,
    },
}

/// A built reply and the CNAME targets still to be looked up: (position in the answer, name).
struct Built {
    response: Response,
    answers: Vec<Record>,
    chase: Vec<(usize, Name)>,
}

impl TemplateHandler {
    pub fn new(config: Config, upstream: Upstream, metrics: Arc<TemplateMetrics>) -> Self {
        TemplateHandler {
            config,
            upstream,
            metrics,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn build(&self, rule: &Rule, data: &Data<'_>, req: &Request) -> Result<Built, RenderError> {
        let mut buffer = String::new();
        let answers = self.render_all(&rule.answer, data, req, &mut buffer)?;
        let additionals = self.render_all(&rule.additional, data, req, &mut buffer)?;
        let authorities = self.render_all(&rule.authority, data, req, &mut buffer)?;

        // §6.3: a CNAME answering an A or AAAA query is followed through the whole server.
        let chase = if matches!(req.qtype(), RecordType::A | RecordType::AAAA) {
            answers
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match &r.data {
                    RData::CNAME(target) => Some((i, target.0.clone())),
                    _ => None,
                })
                .collect()
        } else {
            Vec::new()
        };

        let mut response = Response::reply_to(req, NAME)
            .authoritative()
            .with_rcode(rule.rcode);
        if !authorities.is_empty() {
            response.authorities = authorities.into();
        }
        if !additionals.is_empty() {
            response.additionals = additionals.into();
        }
        if let Some(ede) = &rule.ederror {
            response.edns = Some(ede_opt(ede));
        }
        Ok(Built {
            response,
            answers,
            chase,
        })
    }

    fn render_all(
        &self,
        templates: &[Template],
        data: &Data<'_>,
        req: &Request,
        buffer: &mut String,
    ) -> Result<Vec<Record>, RenderError> {
        let mut records = Vec::with_capacity(templates.len());
        for template in templates {
            if let Err(e) = template.render(data, buffer) {
                self.metrics
                    .template_failures
                    .get_or_create(&failure_labels(req, data, template))
                    .inc();
                return Err(e.into());
            }
            match parse_rr(buffer) {
                Ok(record) => records.push(record),
                Err(error) => {
                    self.metrics
                        .rr_failures
                        .get_or_create(&failure_labels(req, data, template))
                        .inc();
                    return Err(RenderError::Rr {
                        section: template.section(),
                        text: buffer.clone(),
                        error,
                    });
                }
            }
        }
        Ok(records)
    }
}

fn failure_labels(req: &Request, data: &Data<'_>, template: &Template) -> FailureLabels {
    FailureLabels {
        class: Arc::from(data.class.as_str()),
        section: template.section(),
        server: req.server().clone(),
        template: Arc::from(template.canonical()),
        r#type: Arc::from(data.qtype.as_str()),
        view: Arc::from(""),
        zone: Arc::from(data.zone),
    }
}

/// §6.3: an OPT (UDP 4096, DO) carrying the Extended DNS Error.
fn ede_opt(ede: &ExtendedError) -> Edns {
    let mut edns = Edns::new();
    edns.set_max_payload(4096);
    edns.set_dnssec_ok(true);
    let mut payload = ede.code.to_be_bytes().to_vec();
    payload.extend_from_slice(ede.reason.as_bytes());
    edns.options_mut()
        .insert(EdnsOption::Unknown(EDE_OPTION, payload));
    edns
}

/// Template ANY or query ANY always match (§6.2 step 2).
fn class_type_match(rule: &Rule, req: &Request) -> bool {
    let (qclass, qtype) = (req.qclass(), req.qtype());
    (rule.class == DNSClass::ANY || qclass == DNSClass::ANY || qclass == rule.class)
        && (rule.qtype == RecordType::ANY || qtype == RecordType::ANY || qtype == rule.qtype)
}

/// `.Match` and `.Group` from a regex match (CoreDNS: numeric groups, then named ones over
/// them).
fn groups(regex: &Regex, caps: &Captures<'_>) -> (Vec<String>, Vec<(String, String)>) {
    let matches: Vec<String> = caps
        .iter()
        .map(|m| m.map_or_else(String::new, |m| m.as_str().to_string()))
        .collect();
    let mut groups: Vec<(String, String)> = matches
        .iter()
        .enumerate()
        .map(|(i, m)| (i.to_string(), m.clone()))
        .collect();
    for (i, name) in regex.capture_names().enumerate() {
        let Some(name) = name else { continue };
        let value = matches.get(i).cloned().unwrap_or_default();
        match groups.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => groups.push((name.to_string(), value)),
        }
    }
    (matches, groups)
}

impl Plugin for TemplateHandler {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        let qname = req.qname_lower();
        if longest_match(&self.config.zones, qname).is_none() {
            return next.serve(req);
        }
        for rule in &self.config.rules {
            let Some(zone) = longest_match(&rule.zones, qname) else {
                continue;
            };
            // A class or type mismatch passes on whatever `fallthrough` says (§6.2, T3).
            if !class_type_match(rule, req) {
                continue;
            }
            let Some((regex, caps)) = rule
                .regexes
                .iter()
                .find_map(|r| r.captures(qname).map(|c| (r, c)))
            else {
                if rule.fall.through(qname) {
                    continue;
                }
                // §6.2 step 3, T4: a miss without fallthrough is SERVFAIL, nothing written.
                return Reply::fail(Failure::rcode(ResponseCode::ServFail));
            };

            let (qclass, qtype) = (req.qclass(), req.qtype());
            let class = if qclass == DNSClass::ANY {
                rule.class
            } else {
                qclass
            };
            let rtype = if qtype == RecordType::ANY {
                rule.qtype
            } else {
                qtype
            };
            let (matches, groups) = groups(regex, &caps);
            let data = Data {
                zone,
                name: qname,
                regex: regex.as_str(),
                class: ClassName(class).to_string(),
                qtype: TypeName(rtype).to_string(),
                matches,
                groups,
                message: req.message(),
                remote: req.client().ip().to_string(),
            };
            self.metrics
                .matches
                .get_or_create(&MatchLabels {
                    class: Arc::from(data.class.as_str()),
                    server: req.server().clone(),
                    r#type: Arc::from(data.qtype.as_str()),
                    view: Arc::from(""),
                    zone: Arc::from(zone),
                })
                .inc();

            // §6.3, T6: the server writes a bare SERVFAIL; configured records are not sent.
            if rule.rcode == ResponseCode::ServFail {
                return Reply::fail(Failure::rcode(ResponseCode::ServFail));
            }
            let built = match self.build(rule, &data, req) {
                Ok(built) => built,
                Err(e) => return Reply::fail(Failure::servfail(Error::new(NAME, e))),
            };
            if built.chase.is_empty() {
                let Built {
                    mut response,
                    answers,
                    ..
                } = built;
                if !answers.is_empty() {
                    response.answers = answers.into();
                }
                return Reply::answer(response);
            }
            return Reply::pending(self.chase(req, built));
        }
        next.serve(req)
    }
}

impl TemplateHandler {
    /// Looks up each CNAME target with the query's type and appends its answers after the
    /// CNAME; the lookup's TC bit is copied (§6.3, T7).
    async fn chase(&self, req: &Request, built: Built) -> plugin::Outcome {
        let Built {
            mut response,
            answers,
            chase,
        } = built;
        let mut out = Vec::with_capacity(answers.len());
        let mut truncated = false;
        let mut pending = chase.into_iter().peekable();
        for (i, record) in answers.into_iter().enumerate() {
            out.push(record);
            while let Some((_, target)) = pending.next_if(|(at, _)| *at == i) {
                if let Some(found) = self.upstream.lookup(req, target, req.qtype()).await {
                    truncated |= found.flags.truncated;
                    out.extend(found.answers.iter().cloned());
                }
            }
        }
        response.answers = out.into();
        Ok(response.truncated(truncated))
    }
}
