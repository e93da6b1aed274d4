//! How to reach a PostgreSQL server, and URLs as they may appear in output.

use std::time::Duration;

use super::{RoundtripError, fail};

/// How to reach a server: enough for tokio-postgres, for a SQLAlchemy URL, and for messages
/// (which never show the password).
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// A host name, or the directory of a unix socket.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
}

impl ConnInfo {
    pub fn with_database(&self, dbname: &str) -> ConnInfo {
        ConnInfo {
            dbname: dbname.to_string(),
            ..self.clone()
        }
    }

    pub fn parse_url(url: &str) -> Result<ConnInfo, RoundtripError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| fail(format!("database URL {}: {e}", redact_url(url))))?;
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
                .map(|p| String::from_utf8_lossy(p).to_string()),
            dbname: config.get_dbname().unwrap_or("postgres").to_string(),
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
            .connect_timeout(Duration::from_secs(10));
        if let Some(password) = &self.password {
            config.password(password);
        }
        config
    }

    /// `postgresql://user:password@host:port/db`, with a unix socket as `?host=`.
    pub fn url(&self) -> String {
        let credentials = match &self.password {
            Some(password) => format!("{}:{}", encode(&self.user), encode(password)),
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

    /// For messages: no password.
    pub fn describe(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.dbname)
    }

    pub async fn connect(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self.pg_config().connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
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

/// A URL as it may appear in output: the password replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                format!("{user}:***")
            } else {
                user.to_string()
            };
            let tail = hide_password_parameter(tail);
            format!("{scheme}://{hidden}@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{}", hide_password_parameter(tail)),
    }
}

fn hide_password_parameter(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}
