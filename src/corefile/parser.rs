//! Tokens → server blocks (corefile.md §4–5), as CoreDNS's fork of the Caddy v1 parser.
//!
//! The grammar is line-oriented: keys end at `{` or the end of their line (unless a key ends
//! with a comma), a directive runs to the end of its line or to its matching `}`, and
//! `import` splices a snippet's or file's tokens in as if written in place. The quirks users
//! depend on are kept, and each is named where it happens.

use std::collections::HashMap;
use std::sync::Arc;

use plugin::Token;

use super::env::substitute;
use super::error::{CorefileError, ParseProblem};
use super::imports::import_files;
use super::stream::TokenStream;
use super::{Directive, ServerBlock, Source};

/// Guards against recursive and explosive imports.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Snippet expansions per parse (CoreDNS: 10000).
    pub snippet_expansions: usize,
    /// File/glob imports per parse (CoreDNS: 100000).
    pub file_imports: usize,
    /// Tokens imports may add in total (hardening; CoreDNS has no limit).
    pub imported_tokens: usize,
    /// False: `import` resolves snippets only (the fuzz entry point never touches files).
    pub files_allowed: bool,
}

impl Limits {
    pub const COREDNS: Limits = Limits {
        snippet_expansions: 10_000,
        file_imports: 100_000,
        imported_tokens: 2_000_000,
        files_allowed: true,
    };
}

pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;
pub type DirectiveCheck<'a> = Option<&'a dyn Fn(&str) -> bool>;

pub struct Parser<'a> {
    source: &'a Source,
    stream: TokenStream,
    env: EnvLookup<'a>,
    is_known: DirectiveCheck<'a>,
    limits: Limits,
    snippets: HashMap<String, Arc<[Token]>>,
    snippet_expansions: usize,
    file_imports: usize,
    imported_tokens: usize,
    /// The key line was the last thing in the input.
    at_eof: bool,
}

/// Where an `import` stands: it decides where the cursor is after the splice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ImportPosition {
    /// Among server keys: the first imported token is examined at once as a key.
    Keys,
    /// As a directive or at a line start inside a sub-block: the next step loads it.
    Body,
}

impl<'a> Parser<'a> {
    pub fn new(
        source: &'a Source,
        tokens: Vec<Token>,
        env: EnvLookup<'a>,
        is_known: DirectiveCheck<'a>,
        limits: Limits,
    ) -> Self {
        Parser {
            source,
            stream: TokenStream::new(tokens),
            env,
            is_known,
            limits,
            snippets: HashMap::new(),
            snippet_expansions: 0,
            file_imports: 0,
            imported_tokens: 0,
            at_eof: false,
        }
    }

    /// Every server block in file order. Snippet definitions and blocks whose keys are all
    /// empty (`"" {…}`, `{$UNSET} {…}`) are parsed but not returned.
    pub fn parse_all(mut self) -> Result<Vec<ServerBlock>, CorefileError> {
        let mut blocks = Vec::new();
        while self.stream.next() {
            if let Some(block) = self.parse_block()? {
                blocks.push(block);
            }
        }
        Ok(blocks)
    }

    fn parse_block(&mut self) -> Result<Option<ServerBlock>, CorefileError> {
        let keys = self.keys()?;
        if self.at_eof {
            // Only keys, nothing after them: a block without plugins.
            return Ok(non_empty(keys, Vec::new()));
        }
        if let Some(name) = snippet_name(&keys) {
            self.define_snippet(name)?;
            return Ok(None);
        }
        let directives = self.block_body()?;
        Ok(non_empty(keys, directives))
    }

    /// The key list: ends at `{`, or at the end of a line whose last key has no trailing
    /// comma. Keys are env-substituted; an empty result is dropped.
    fn keys(&mut self) -> Result<Vec<String>, CorefileError> {
        let mut keys = Vec::new();
        let mut expecting_another = false;
        loop {
            let key = self.substituted_current()?;
            if key == "import" && self.stream.is_new_line() {
                self.import(ImportPosition::Keys)?;
                continue;
            }
            if key == "{" {
                if expecting_another {
                    return Err(self.error(ParseProblem::DanglingComma(key)));
                }
                break;
            }
            if !key.is_empty() {
                // A lone `,` leaves an empty key, which key inspection then refuses (as
                // CoreDNS does); only keys that were empty to begin with are dropped.
                match key.strip_suffix(',') {
                    Some(without_comma) => {
                        keys.push(without_comma.to_string());
                        expecting_another = true;
                    }
                    None => {
                        keys.push(key);
                        expecting_another = false;
                    }
                }
            }
            let has_next = self.stream.next();
            if expecting_another && !has_next {
                return Err(self.error(ParseProblem::UnexpectedEof));
            }
            if !has_next {
                self.at_eof = true;
                break;
            }
            if !expecting_another && self.stream.is_new_line() {
                break;
            }
        }
        Ok(keys)
    }

    /// `{ directives }`, or the braceless form: directives up to a stray `}` or the end.
    fn block_body(&mut self) -> Result<Vec<Directive>, CorefileError> {
        let braced = self.stream.val() == "{";
        if !braced {
            self.stream.unread();
        }
        let directives = self.directives()?;
        // When the input ends right after the last directive's own `}`, that `}` is current
        // and passes for the block's: "the last `}` closes both" (corefile.md §4).
        if braced && self.stream.val() != "}" {
            return Err(self.syntax_error("}"));
        }
        Ok(directives)
    }

    fn directives(&mut self) -> Result<Vec<Directive>, CorefileError> {
        let mut directives = Vec::new();
        while self.stream.next() {
            match self.stream.val() {
                "}" => break,
                "import" => self.import(ImportPosition::Body)?,
                _ => directives.push(self.directive()?),
            }
        }
        Ok(directives)
    }

    /// One directive: its name, the rest of its line, and everything up to the matching `}`
    /// of any `{` among them (a `{` on the next line is swallowed too, corefile.md §4).
    fn directive(&mut self) -> Result<Directive, CorefileError> {
        let name = self.substituted_current()?;
        if let Some(is_known) = self.is_known
            && !is_known(&name)
        {
            return Err(self.error(ParseProblem::UnknownDirective(name)));
        }
        let mut tokens = vec![self.current_with_text(name.clone())];
        let mut nesting: usize = 0;
        while self.stream.next() {
            let val = self.stream.val();
            if val == "{" {
                nesting += 1;
            } else if self.stream.is_new_line() && nesting == 0 {
                self.stream.unread();
                break;
            } else if val == "}" && nesting > 0 {
                nesting -= 1;
            } else if val == "}" {
                // `. { whoami }`: the block's `}` may not share the directive's line.
                return Err(self.error(ParseProblem::UnmatchedClosingBrace));
            } else if val == "import" && self.stream.is_new_line() {
                self.import(ImportPosition::Body)?;
                continue;
            }
            let text = self.substituted_current()?;
            tokens.push(self.current_with_text(text));
        }
        if nesting > 0 {
            return Err(self.error(ParseProblem::UnexpectedEof));
        }
        Ok(Directive { name, tokens })
    }

    /// `(name) { … }` at top level: the body is stored unparsed for later imports.
    fn define_snippet(&mut self, name: String) -> Result<(), CorefileError> {
        if self.snippets.contains_key(&name) {
            return Err(self.error(ParseProblem::SnippetRedeclared(name)));
        }
        if self.stream.val() != "{" {
            return Err(self.syntax_error("{"));
        }
        let mut depth: usize = 1;
        let mut body = Vec::new();
        while self.stream.next() {
            match self.stream.val() {
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                "{" => depth += 1,
                _ => {}
            }
            if let Some(token) = self.stream.current() {
                body.push(token.clone());
            }
        }
        if depth != 0 {
            return Err(self.syntax_error("}"));
        }
        if self.imports_itself(&name, &body)? {
            return Err(self.error(ParseProblem::SnippetDepth(self.limits.snippet_expansions)));
        }
        self.snippets.insert(name, body.into());
        Ok(())
    }

    /// CoreDNS's guard against the obvious cycle: `import NAME` at a line start in the body
    /// of snippet NAME (line start judged by file and line only, as CoreDNS does).
    fn imports_itself(&self, name: &str, body: &[Token]) -> Result<bool, CorefileError> {
        for (i, pair) in body.windows(2).enumerate() {
            let at_line_start =
                i == 0 || body[i - 1].file != pair[0].file || body[i - 1].line != pair[0].line;
            if pair[0].text == "import" && at_line_start && self.substitute(&pair[1])? == name {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `import ARG` (current token `import`): replaces both tokens with the snippet's or the
    /// files' tokens.
    fn import(&mut self, position: ImportPosition) -> Result<(), CorefileError> {
        let before_import = self.stream.previous().cloned();
        if !self.stream.next_arg() {
            return Err(self.error(ParseProblem::WrongArgumentCount(
                self.stream.val().to_string(),
            )));
        }
        let Some(argument) = self.stream.current().cloned() else {
            return Err(self.error(ParseProblem::ImportNeedsPath));
        };
        let pattern = self.substitute(&argument)?;
        if pattern.is_empty() {
            return Err(self.error(ParseProblem::ImportNeedsPath));
        }
        if self.stream.next_arg() {
            return Err(self.error(ParseProblem::ImportTakesOneArgument));
        }
        let imported: Vec<Token> = if let Some(snippet) = self.snippets.get(&pattern) {
            if self.snippet_expansions >= self.limits.snippet_expansions {
                return Err(self.error(ParseProblem::SnippetDepth(self.limits.snippet_expansions)));
            }
            self.snippet_expansions += 1;
            snippet.to_vec()
        } else {
            if self.file_imports >= self.limits.file_imports {
                return Err(self.error(ParseProblem::FileImportDepth(self.limits.file_imports)));
            }
            self.file_imports += 1;
            if !self.limits.files_allowed {
                return Err(self.error(ParseProblem::FileImportsDisabled(pattern)));
            }
            import_files(&pattern, &argument.file, self.source).map_err(|p| self.error(p))?
        };
        self.imported_tokens = self.imported_tokens.saturating_add(imported.len());
        if self.imported_tokens > self.limits.imported_tokens {
            return Err(self.error(ParseProblem::TooManyTokens(self.limits.imported_tokens)));
        }
        self.stream.splice(before_import, imported);
        if position == ImportPosition::Keys {
            self.stream.load_spliced();
        }
        Ok(())
    }

    /// The current token's text after environment substitution ("" when none is loaded).
    fn substituted_current(&self) -> Result<String, CorefileError> {
        match self.stream.current() {
            Some(token) => self.substitute(token),
            None => Ok(String::new()),
        }
    }

    fn substitute(&self, token: &Token) -> Result<String, CorefileError> {
        substitute(&token.text, self.env).map_err(|_| CorefileError {
            file: token.file.clone(),
            line: token.line,
            problem: ParseProblem::EnvSubstitutionRunaway(token.text.clone()),
        })
    }

    fn current_with_text(&self, text: String) -> Token {
        match self.stream.current() {
            Some(token) => Token {
                file: token.file.clone(),
                line: token.line,
                text,
            },
            None => Token {
                file: self.source.name.clone(),
                line: 0,
                text,
            },
        }
    }

    /// An error at the current token; with none loaded, CoreDNS reports the main file and
    /// line 0.
    fn error(&self, problem: ParseProblem) -> CorefileError {
        match self.stream.current() {
            Some(token) => CorefileError {
                file: token.file.clone(),
                line: token.line,
                problem,
            },
            None => CorefileError {
                file: self.source.name.clone(),
                line: 0,
                problem,
            },
        }
    }

    fn syntax_error(&self, expected: &str) -> CorefileError {
        self.error(ParseProblem::Unexpected {
            found: self.stream.val().to_string(),
            expected: expected.to_string(),
        })
    }
}

/// `(name)` as the only key defines a snippet; `(a) (b) {` is two ordinary keys.
fn snippet_name(keys: &[String]) -> Option<String> {
    match keys {
        [only] if only.starts_with('(') && only.ends_with(')') => {
            let inner = &only[1..];
            Some(inner.strip_suffix(')').unwrap_or(inner).to_string())
        }
        _ => None,
    }
}

fn non_empty(keys: Vec<String>, directives: Vec<Directive>) -> Option<ServerBlock> {
    (!keys.is_empty()).then_some(ServerBlock { keys, directives })
}
