//! The reads of `census export graph`, the same SQL for SQLite and PostgreSQL: the
//! accounts (held), and the resources, containment and links (streamed, one callback
//! per row). Not for building nodes and edges (the module above) nor for writing.

use anyhow::{anyhow, bail, Result};

use super::{AccountRow, ResourceRow, Selection};
use crate::cli::export::GraphFlags;
use crate::commands::inventory::filter::TypeSpec;
use crate::store::postgres::{self as pg, PgUrl};
use crate::store::sqlite::open_read_only;

/// The database read.
pub(crate) enum Store {
    Sqlite(rusqlite::Connection, String),
    Postgres(Box<postgres::Client>, PgUrl),
}

/// One row's columns, all as text.
type Row = Vec<Option<String>>;

impl Store {
    /// Opens the database `args` names, read-only, and checks it has the inventory.
    pub(crate) fn open(args: &GraphFlags) -> Result<Store> {
        let (path, postgres) = args.databases();
        let mut store = match postgres {
            Some(url) => Store::Postgres(Box::new(url.open_read_only()?), url),
            None => Store::Sqlite(open_read_only(&path)?, path.display().to_string()),
        };
        let mut tables = 0;
        store.each(
            &match &store {
                Store::Sqlite(..) => "SELECT count(*) FROM sqlite_schema WHERE name IN ('inventory', 'links', 'inventory_latest', 'links_latest')".to_string(),
                Store::Postgres(..) => "SELECT count(*)::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND c.relname IN ('inventory', 'links', 'inventory_latest', 'links_latest')".to_string(),
            },
            &[],
            &mut |r| {
                tables = r[0].as_deref().unwrap_or("0").parse().unwrap_or(0);
                Ok(())
            },
        )?;
        if tables < 4 {
            bail!(
                "{}: has no inventory and links (written by an older census); run census scan with this census to fill them",
                store.name()
            );
        }
        Ok(store)
    }

    fn name(&self) -> String {
        match self {
            Store::Sqlite(_, path) => path.clone(),
            Store::Postgres(_, url) => url.to_string(),
        }
    }

    fn postgres(&self) -> bool {
        matches!(self, Store::Postgres(..))
    }

    /// Runs `sql` (placeholders `?1`, `?2`...: written `$1` for PostgreSQL) with text
    /// parameters, and calls `f` with each row's columns as text.
    fn each(
        &mut self,
        sql: &str,
        params: &[String],
        f: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<()> {
        match self {
            Store::Sqlite(conn, path) => {
                let err = |e: rusqlite::Error| anyhow!("{path}: {e}");
                let mut stmt = conn.prepare(sql).map_err(err)?;
                let n = stmt.column_count();
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(params.iter()))
                    .map_err(err)?;
                while let Some(r) = rows.next().map_err(err)? {
                    let mut row = Vec::with_capacity(n);
                    for i in 0..n {
                        row.push(match r.get_ref(i).map_err(err)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Text(t)
                            | rusqlite::types::ValueRef::Blob(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Integer(i) => Some(i.to_string()),
                            rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                        });
                    }
                    f(row)?;
                }
                Ok(())
            }
            Store::Postgres(client, url) => {
                use postgres::fallible_iterator::FallibleIterator;
                let sql = pg_placeholders(sql);
                let err = |e: postgres::Error| anyhow!("{}", url.error(&pg::error_text(&e)));
                let mut rows = client
                    .query_raw(
                        sql.as_str(),
                        params
                            .iter()
                            .map(|p| p as &(dyn postgres::types::ToSql + Sync)),
                    )
                    .map_err(err)?;
                while let Some(r) = rows.next().map_err(err)? {
                    let mut row = Vec::with_capacity(r.len());
                    for i in 0..r.len() {
                        row.push(r.try_get::<_, Option<String>>(i).map_err(err)?);
                    }
                    f(row)?;
                }
                Ok(())
            }
        }
    }

    /// The selection `args` asks for: the scan checked, account names made ids.
    pub(crate) fn selection(&mut self, args: &GraphFlags) -> Result<Selection> {
        let name = self.name();
        if let Some(scan) = &args.scan {
            let mut known = Vec::new();
            self.each("SELECT scan_id FROM scans ORDER BY seq", &[], &mut |r| {
                known.push(r[0].clone().unwrap_or_default());
                Ok(())
            })?;
            if !known.contains(scan) {
                let listed = if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                };
                bail!("--scan {scan}: {name} has no such scan; its scans are: {listed}");
            }
            use crate::store::shards::{check_finished, Db};
            match self {
                Store::Sqlite(c, _) => check_finished(Db::Sqlite(c), scan, args.partial)?,
                Store::Postgres(c, url) => {
                    check_finished(Db::Postgres(c, url), scan, args.partial)?
                }
            }
        }
        let mut accounts = Vec::new();
        if !args.account.is_empty() {
            let mut all: Vec<(String, Option<String>)> = Vec::new();
            let mut sql = String::from("SELECT DISTINCT account_id, name FROM accounts");
            let mut params = Vec::new();
            if let Some(scan) = &args.scan {
                sql.push_str(" WHERE scan_id = ?1");
                params.push(scan.clone());
            }
            self.each(&sql, &params, &mut |r| {
                all.push((r[0].clone().unwrap_or_default(), r[1].clone()));
                Ok(())
            })?;
            for wanted in &args.account {
                let wanted = wanted.trim();
                // Names in any case, as `census inventory --account` matches them.
                let lower = wanted.to_lowercase();
                let matched: Vec<&String> = all
                    .iter()
                    .filter(|(id, name)| {
                        id == wanted || name.as_deref().is_some_and(|n| n.to_lowercase() == lower)
                    })
                    .map(|(id, _)| id)
                    .collect();
                if matched.is_empty() {
                    if wanted.len() == 12 && wanted.bytes().all(|b| b.is_ascii_digit()) {
                        accounts.push(wanted.to_string());
                        continue;
                    }
                    bail!(
                        "--account {wanted}: {name} has no account with that id or name; census query \"select account_id, name from accounts\" lists them"
                    );
                }
                accounts.extend(matched.into_iter().cloned());
            }
            accounts.sort();
            accounts.dedup();
        }
        let types = args
            .types
            .iter()
            .filter(|t| !t.trim().is_empty())
            .map(|t| TypeSpec::parse(t).map_err(|e| anyhow!("--type {}: {e}", t.trim())))
            .collect::<Result<Vec<_>>>()?;
        Ok(Selection {
            scan: args.scan.clone(),
            accounts,
            types,
        })
    }

    /// The `FROM` of the inventory rows (`i`, with `account_name`), the `WHERE` that
    /// applies the selection, and their parameters.
    fn scope(&self, s: &Selection) -> (String, String, Vec<String>) {
        let mut params = Vec::new();
        // `inventory_latest`'s rows: each call's latest scan, as the view picks it.
        let (from, filter) = match &s.scan {
            Some(scan) => {
                params.push(scan.clone());
                ("inventory inv".to_string(), " WHERE inv.scan_id = ?1")
            }
            None => (
                format!(
                    "({}) latest JOIN inventory inv ON inv.scan_id = latest.scan_id \
                     AND inv.source = latest.stem",
                    crate::sink::sql::schema::LATEST_PER_CALL
                ),
                "",
            ),
        };
        let base = format!(
            "(SELECT inv.scan_id AS scan_id, inv.account_id AS account_id, \
             a.name AS account_name, inv.region AS region, inv.service AS service, \
             inv.resource_type AS resource_type, inv.cfn_type AS cfn_type, \
             inv.resource_id AS resource_id, inv.arn AS arn, inv.name AS name, \
             inv.created AS created, inv.tags AS tags, inv.source AS source \
             FROM {from} LEFT JOIN accounts a ON a.scan_id = inv.scan_id \
             AND a.account_id = inv.account_id{filter}) i"
        );
        let mut conds = vec!["1 = 1".to_string()];
        if !s.accounts.is_empty() {
            conds.push(format!(
                "i.account_id IN ({})",
                placeholders(&mut params, &s.accounts)
            ));
        }
        (base, conds.join(" AND "), params)
    }

    /// The accounts of the selection, in id order (see the module above for which).
    pub(crate) fn accounts(&mut self, s: &Selection) -> Result<Vec<AccountRow>> {
        let tags = if self.postgres() {
            "a.tags::text"
        } else {
            "a.tags"
        };
        let columns = format!(
            "a.account_id, a.name, a.status, a.partition, a.org_id, \
             a.management_account_id, a.ou_id, a.ou_path, a.scan_status, {tags}"
        );
        let (base, _, mut params) = self.scope(&Selection::default());
        let mut sql = match &s.scan {
            Some(scan) => {
                params.push(scan.clone());
                format!(
                    "SELECT {columns} FROM accounts a WHERE a.scan_id = ?{}",
                    params.len()
                )
            }
            None => format!(
                "SELECT {columns} FROM (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY \
                 x.account_id ORDER BY s.finished IS NULL, s.seq DESC) AS rn \
                 FROM accounts x JOIN scans s ON s.scan_id = x.scan_id) a \
                 WHERE a.rn = 1 AND (a.scan_id = (SELECT scan_id FROM scans \
                 ORDER BY finished IS NULL, seq DESC LIMIT 1) \
                 OR a.account_id IN (SELECT i.account_id FROM {base}))"
            ),
        };
        if !s.accounts.is_empty() {
            sql.push_str(&format!(
                " AND a.account_id IN ({})",
                placeholders(&mut params, &s.accounts)
            ));
        }
        sql.push_str(&format!(" ORDER BY a.account_id{}", self.collate()));
        let mut out = Vec::new();
        self.each(&sql, &params, &mut |mut r| {
            let mut take = |i: usize| r[i].take();
            out.push(AccountRow {
                id: take(0).unwrap_or_default(),
                name: take(1),
                status: take(2),
                partition: take(3),
                org_id: take(4),
                management_account_id: take(5),
                ou_id: take(6),
                ou_path: take(7),
                scan_status: take(8),
                tags: take(9),
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// ` COLLATE "C"` on PostgreSQL: rows in byte order, as Rust compares strings.
    fn collate(&self) -> &'static str {
        if self.postgres() {
            " COLLATE \"C\""
        } else {
            ""
        }
    }

    /// The selection's inventory rows with their unresolved links, in account, region,
    /// type, resource id and source order.
    pub(crate) fn resources(
        &mut self,
        s: &Selection,
        f: &mut dyn FnMut(ResourceRow) -> Result<()>,
    ) -> Result<()> {
        let (base, cond, params) = self.scope(s);
        let c = self.collate();
        let tags = if self.postgres() {
            "i.tags::text"
        } else {
            "i.tags"
        };
        let links_scan = if s.scan.is_some() {
            " AND scan_id = ?1"
        } else {
            ""
        };
        // A row's links, grouped (the join then uses the group's key, an automatic index
        // in SQLite, a hash in PostgreSQL): unresolved as [{kind, raw}], resolved as
        // [{kind, raw, to}].
        let group = |members: &[&str], condition: &str| {
            let pairs: Vec<String> = members.iter().map(|m| format!("'{m}', {m}")).collect();
            let object = if self.postgres() {
                let order: Vec<String> = members
                    .iter()
                    .map(|m| format!("{m} COLLATE \"C\""))
                    .collect();
                format!(
                    "jsonb_agg(jsonb_build_object({}) ORDER BY {})::text",
                    pairs.join(", "),
                    order.join(", ")
                )
            } else {
                format!(
                    "json_group_array(json_object({}) ORDER BY {})",
                    pairs.join(", "),
                    members.join(", ")
                )
            };
            let columns = members.join(", ");
            format!(
                "(SELECT scan_id, account_id, region, from_source, from_id, {object} AS list \
                 FROM (SELECT DISTINCT scan_id, account_id, region, from_source, from_id, \
                 {columns} FROM links WHERE {condition}{links_scan}) d GROUP BY scan_id, \
                 account_id, region, from_source, from_id)"
            )
        };
        let unresolved = group(&["kind", "raw"], "to_arn IS NULL");
        let resolved = group(&["kind", "to_arn", "raw"], "to_arn IS NOT NULL");
        let on = |t: &str| {
            format!(
                "{t}.scan_id = i.scan_id AND {t}.account_id = i.account_id AND \
                 {t}.region = i.region AND {t}.from_source = i.source AND \
                 {t}.from_id = i.resource_id"
            )
        };
        let sql = format!(
            "SELECT i.scan_id, i.account_id, i.account_name, i.region, i.service, \
             i.resource_type, i.cfn_type, i.resource_id, i.arn, i.name, i.created, {tags}, \
             i.source, u.list, r.list FROM {base} LEFT JOIN {unresolved} u ON {} \
             LEFT JOIN {resolved} r ON {} \
             WHERE {cond} ORDER BY i.account_id{c}, i.region{c}, i.resource_type{c}, \
             i.resource_id{c}, i.source{c}",
            on("u"),
            on("r")
        );
        self.each(&sql, &params, &mut |mut r| {
            let mut take = |i: usize| r[i].take();
            f(ResourceRow {
                scan_id: take(0).unwrap_or_default(),
                account_id: take(1).unwrap_or_default(),
                account_name: take(2),
                region: take(3).unwrap_or_default(),
                service: take(4).unwrap_or_default(),
                resource_type: take(5).unwrap_or_default(),
                cfn_type: take(6),
                resource_id: take(7).unwrap_or_default(),
                arn: take(8),
                name: take(9),
                created: take(10),
                tags: take(11),
                source: take(12).unwrap_or_default(),
                unresolved: take(13),
                links: take(14),
            })
        })
    }
}

/// `?n, ?n+1, ...` for `values`, appended to `params`.
fn placeholders(params: &mut Vec<String>, values: &[String]) -> String {
    let mut out = Vec::with_capacity(values.len());
    for v in values {
        params.push(v.clone());
        out.push(format!("?{}", params.len()));
    }
    out.join(", ")
}

/// `?1` -> `$1` (PostgreSQL's placeholders). The statements here hold no `?` in
/// literals.
fn pg_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}
