//! How to reach a PostgreSQL server, and database URLs as they may appear in output.
//!
//! The password lives in a [`Secret`], whose `Debug` and `Display` print `***`: a `ConnInfo`
//! can be formatted anywhere without leaking it. Only [`ConnInfo::url_with_password`] spells
//! it out, for the driver's and the watchdog's environment.

use std::fmt;
use std::time::Duration;

use super::{RoundtripError, fail};

/// How long a connection may take, handshake and authentication included, unless configured.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A password: usable, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// How to reach a server: enough for tokio-postgres, for a SQLAlchemy URL, and for messages.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// A host name, or the directory of a unix socket.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<Secret>,
    pub dbname: String,
    pub connect_timeout: Duration,
}

/// `user@host:port/database`: what messages show.
impl fmt::Display for ConnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

/// Why a connection failed, in the terms a user acts on.
#[derive(Debug)]
pub enum ConnectError {
    /// The server said no to these credentials or this database: retrying will not help.
    Refused(String),
    /// Nothing answered within the connect timeout.
    TimedOut(Duration),
    /// Not reachable (yet): refused, reset, no such socket.
    Unreachable(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Refused(reason) | ConnectError::Unreachable(reason) => {
                f.write_str(reason)
            }
            ConnectError::TimedOut(limit) => write!(
                f,
                "no answer within {} s (connect timeout; --connect-timeout or `connect_timeout_s` in [roundtrip] changes it)",
                limit.as_secs()
            ),
        }
    }
}

impl ConnInfo {
    pub fn with_database(&self, dbname: &str) -> ConnInfo {
        ConnInfo {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }

    pub fn parse_url(url: &str) -> Result<ConnInfo, RoundtripError> {
        let config: tokio_postgres::Config = url.parse().map_err(|_| {
            fail(format!(
                "database URL {} is not a connection string PostgreSQL understands; expected postgresql://user:password@host:port/database (percent-encode `@`, `:`, `/` and `?` in the password) or `host=... user=... password=... dbname=...`",
                redact_url(url)
            ))
        })?;
        let host = match config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
            Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
            None => "localhost".to_string(),
        };
        Ok(ConnInfo {
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            user: config.get_user().unwrap_or("postgres").to_string(),
            password: config
                .get_password()
                .map(|p| Secret::new(String::from_utf8_lossy(p))),
            dbname: config.get_dbname().unwrap_or("postgres").to_string(),
            connect_timeout: config
                .get_connect_timeout()
                .copied()
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
        })
    }

    pub fn pg_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .application_name("migration-gate")
            .connect_timeout(self.connect_timeout);
        if let Some(password) = &self.password {
            config.password(password.expose());
        }
        config
    }

    /// `postgresql://user:password@host:port/db`, with a unix socket as `?host=`. For the
    /// environment of processes this one starts, never for output.
    pub fn url_with_password(&self) -> String {
        let credentials = match &self.password {
            Some(password) => format!("{}:{}", encode(&self.user), encode(password.expose())),
            None => encode(&self.user),
        };
        if self.host.starts_with('/') {
            format!(
                "postgresql://{credentials}@/{}?host={}&port={}",
                encode(&self.dbname),
                encode(&self.host),
                self.port
            )
        } else {
            format!(
                "postgresql://{credentials}@{}:{}/{}",
                self.host,
                self.port,
                encode(&self.dbname)
            )
        }
    }

    /// Connects within the connect timeout, the startup handshake and authentication included
    /// (tokio-postgres's own timeout covers only opening the socket).
    pub async fn connect(&self) -> Result<tokio_postgres::Client, ConnectError> {
        self.connect_with_options(None).await
    }

    /// [`ConnInfo::connect`] with server settings for the session (`-c name=value ...`).
    pub async fn connect_with_options(
        &self,
        options: Option<&str>,
    ) -> Result<tokio_postgres::Client, ConnectError> {
        let mut config = self.pg_config();
        if let Some(options) = options {
            config.options(options);
        }
        let attempt = config.connect(tokio_postgres::NoTls);
        match tokio::time::timeout(self.connect_timeout, attempt).await {
            Err(_) => Err(ConnectError::TimedOut(self.connect_timeout)),
            Ok(Err(error)) => Err(classify(&error)),
            Ok(Ok((client, connection))) => {
                tokio::spawn(connection);
                Ok(client)
            }
        }
    }
}

fn classify(error: &tokio_postgres::Error) -> ConnectError {
    match error.as_db_error() {
        Some(db) => {
            let code = db.code().code();
            let reason = format!("{} (SQLSTATE {code})", db.message());
            // 28: invalid authorization; 3D000: no such database; 42501: no permission.
            if code.starts_with("28") || code == "3D000" || code == "42501" {
                ConnectError::Refused(reason)
            } else {
                ConnectError::Unreachable(reason)
            }
        }
        None => ConnectError::Unreachable(
            std::error::Error::source(error)
                .map(|source| format!("{error}: {source}"))
                .unwrap_or_else(|| error.to_string()),
        ),
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A connection string as it may appear in output: any password replaced by `***`, whatever
/// the form (URL, URL without a scheme, key=value) and however malformed.
pub fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        return format!("{scheme}://{}", redact_authority(rest));
    }
    if url.contains('=') {
        return hide_keyword_password(url);
    }
    redact_authority(url)
}

/// `user:password@host/db?...`: everything before the last `@` is credentials (an unencoded
/// `/`, `?` or `@` in a password must not end them early).
fn redact_authority(rest: &str) -> String {
    match rest.rfind('@') {
        Some(at) => {
            let credentials = &rest[..at];
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            format!("{hidden}@{}", hide_keyword_password(&rest[at + 1..]))
        }
        None => hide_keyword_password(rest),
    }
}

/// `password=...` in a query string or a key=value connection string, quoted or not.
fn hide_keyword_password(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = lower[from..].find("password") {
        let key_end = from + found + "password".len();
        let after_key = &text[key_end..];
        let spaces = after_key.len() - after_key.trim_start().len();
        if !after_key.trim_start().starts_with('=') {
            out.push_str(&text[from..key_end]);
            from = key_end;
            continue;
        }
        let value_start = key_end + spaces + 1;
        let value = &text[value_start..];
        let value_start = value_start + (value.len() - value.trim_start().len());
        let value = &text[value_start..];
        let value_len = if let Some(quoted) = value.strip_prefix('\'') {
            // A quoted value ends at the first quote not escaped by a backslash.
            let mut escaped = false;
            let close = quoted
                .char_indices()
                .find(|&(_, c)| {
                    let end = c == '\'' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })
                .map_or(quoted.len(), |(i, _)| i + 1);
            1 + close
        } else {
            value
                .find(|c: char| c.is_whitespace() || c == '&')
                .unwrap_or(value.len())
        };
        out.push_str(&text[from..value_start]);
        out.push_str("***");
        from = value_start + value_len;
    }
    out.push_str(&text[from..]);
    out
}

/// Removes a connection string, and the password inside it, from a message.
pub fn scrub(message: &str, url: &str) -> String {
    let mut clean = message.replace(url, &redact_url(url));
    let password = ConnInfo::parse_url(url)
        .ok()
        .and_then(|c| c.password)
        .map(|p| p.expose().to_string());
    if let Some(password) = password.filter(|p| p.len() >= 3) {
        clean = clean.replace(&password, "***");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_connection_string_loses_its_password() {
        let forms = [
            "postgresql://deploy:s3cret@db:5432/app",
            "postgresql://deploy:s3/cr?et@db:5432/app",
            "postgresql://deploy:s3@cr@et@db/app",
            "deploy:s3cret@db/app",
            "postgres://deploy@db/app?sslmode=require&password=s3cret",
            "host=db password=s3cret port=notanumber",
            "host=db password = 's3 cr\\'et' user=deploy",
            "host=db PASSWORD=s3cret",
        ];
        for form in forms {
            let shown = redact_url(form);
            assert!(
                !shown.contains("s3") && !shown.contains("cr"),
                "{form} → {shown}"
            );
            assert!(shown.contains("db"), "{form} → {shown}");
        }
        assert_eq!(
            redact_url("postgresql://deploy:s3cret@db:5432/app"),
            "postgresql://deploy:***@db:5432/app"
        );
    }

    #[test]
    fn formatting_connection_settings_never_shows_the_password() {
        let info = ConnInfo::parse_url("postgresql://deploy:s3cret@db:5432/app").unwrap();
        assert_eq!(info.to_string(), "deploy@db:5432/app");
        assert!(!format!("{info:?}").contains("s3cret"));
        assert!(info.url_with_password().contains("s3cret"));
        let error = ConnInfo::parse_url("deploy:s3cret@db/app").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(
            scrub(
                "failed for s3cret at postgresql://deploy:s3cret@db:5432/app",
                "postgresql://deploy:s3cret@db:5432/app"
            ),
            "failed for *** at postgresql://deploy:***@db:5432/app"
        );
    }
}
