//! The writer's flushes: the rows its transaction queued, sent as binary `COPY` (or
//! upserted where a key repeats), the detail additions as one `UPDATE ... FROM unnest`,
//! the links and the calls.

use super::*;

/// Whether `key` repeats among `rows`' keys.
pub(super) fn repeats<'a, T, K: Hash + Eq>(rows: &'a [T], key: impl Fn(&'a T) -> K) -> bool {
    let mut seen = HashSet::with_capacity(rows.len());
    !rows.iter().all(|r| seen.insert(key(r)))
}

/// `rows` with only the last of each key, in their order.
pub(super) fn last_of_each<'a, T, K: Hash + Eq>(
    rows: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let mut last: HashMap<K, usize> = HashMap::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        last.insert(key(r), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    keep.into_iter().map(|i| &rows[i]).collect()
}

/// The additions of detail calls to one inventory row, merged.
pub(super) struct Merged {
    pub(super) call: Arc<CallKey>,
    pub(super) resource_id: String,
    pub(super) arn: Option<String>,
    pub(super) tags: Option<serde_json::Map<String, serde_json::Value>>,
    pub(super) name: Option<String>,
}

/// Detail calls' additions with one per inventory row they apply to (its list call's
/// stem, account, region and `resource_id`), in their first one's place: what applying
/// them one after the other gives (the last ARN and the last name win, tags are added
/// up with later values winning), as one `UPDATE` row each.
pub(super) fn merge_enrichments(enrich: Vec<(Arc<CallKey>, Enrichment)>) -> Vec<Merged> {
    let mut merged: Vec<Merged> = Vec::with_capacity(enrich.len());
    let mut at: HashMap<[String; 4], usize> = HashMap::new();
    for (call, e) in enrich {
        let (_, name) = enriched_tags(&e);
        let key = [
            call.from_source(),
            call.account_id.as_str(),
            call.region.as_str(),
            e.resource_id.as_str(),
        ]
        .map(|s| pg_text(s).into_owned());
        match at.get(&key) {
            Some(&i) => {
                let m = &mut merged[i];
                if e.arn.is_some() {
                    m.arn = e.arn;
                }
                if name.is_some() {
                    m.name = name;
                }
                if let Some(tags) = e.tags {
                    m.tags.get_or_insert_with(Default::default).extend(tags);
                }
            }
            None => {
                at.insert(key, merged.len());
                merged.push(Merged {
                    call,
                    resource_id: e.resource_id,
                    arn: e.arn,
                    tags: e.tags,
                    name,
                });
            }
        }
    }
    merged
}

impl Writer {
    /// Sends `rows` with the prepared `COPY` statement `st`.
    fn copy(&mut self, st: &Statement, rows: CopyRows) -> Result<u64, postgres::Error> {
        let bytes = rows.finish();
        let mut w = self.client.copy_in(st)?;
        // A new writer keeps its first write whole and sends it on `finish`, which
        // returns any error of the copy.
        w.write_all(&bytes)
            .expect("a new COPY writer buffers its first write");
        w.finish()
    }

    /// Applies the queued detail additions to their inventory rows: one statement for
    /// all of them ([`merge_enrichments`] first).
    fn flush_enrich(&mut self, scan_id: &str) -> Result<(), postgres::Error> {
        let enrich = std::mem::take(&mut self.pending_enrich);
        if enrich.is_empty() {
            return Ok(());
        }
        for (call, e) in &enrich {
            self.pending_links.extend(
                e.links
                    .iter()
                    .map(|l| (call.clone(), e.resource_id.clone(), None, l.clone())),
            );
        }
        let merged = merge_enrichments(enrich);
        let text = |f: &dyn Fn(&Merged) -> &str| -> Vec<String> {
            merged.iter().map(|m| pg_text(f(m)).into_owned()).collect()
        };
        let opt = |f: &dyn Fn(&Merged) -> Option<&str>| -> Vec<Option<String>> {
            merged
                .iter()
                .map(|m| f(m).map(|s| pg_text(s).into_owned()))
                .collect()
        };
        let tags: Vec<Option<String>> = merged
            .iter()
            .map(|m| {
                m.tags.as_ref().map(|t| {
                    let json = serde_json::to_string(t).unwrap_or_else(|_| "{}".into());
                    pg_json(&json).into_owned()
                })
            })
            .collect();
        self.client.execute(
            &self.st.enrich_inventory,
            &[
                &scan_id,
                &text(&|m| m.call.from_source()),
                &text(&|m| &m.call.account_id),
                &text(&|m| &m.call.region),
                &text(&|m| &m.resource_id),
                &opt(&|m| m.arn.as_deref()),
                &tags,
                &opt(&|m| m.name.as_deref()),
            ],
        )?;
        Ok(())
    }

    /// Writes the links of the queued inventory rows and detail additions: copied, or
    /// inserted skipping those already there when one repeats.
    fn flush_links(&mut self, scan_id: &str) -> Result<(), postgres::Error> {
        for (call, r) in &self.pending_inventory {
            for l in &r.links {
                self.pending_links.push((
                    call.clone(),
                    r.resource_id.clone(),
                    r.arn.clone(),
                    l.clone(),
                ));
            }
        }
        if self.pending_links.is_empty() {
            return Ok(());
        }
        let links = std::mem::take(&mut self.pending_links);
        let repeated = repeats(&links, |r| {
            [
                &r.0.stem,
                &r.0.account_id,
                &r.0.region,
                &r.1,
                &r.3.kind,
                &r.3.raw,
            ]
            .map(|s| pg_text(s))
        });
        if !repeated {
            let mut copy = CopyRows::new(10);
            for r in &links {
                copy.row()
                    .text(scan_id)
                    .text(&r.0.account_id)
                    .text(&r.0.region)
                    .text(&r.0.stem)
                    .text(r.0.from_source())
                    .text(&r.1)
                    .opt(r.2.as_deref())
                    .text(&r.3.kind)
                    .text(&r.3.raw)
                    .opt(r.3.to_type.as_deref());
            }
            let st = self.st.copy_links.clone();
            self.copy(&st, copy)?;
            return Ok(());
        }
        let text = |f: &dyn Fn(&LinkRow) -> &str| -> Vec<String> {
            links.iter().map(|r| pg_text(f(r)).into_owned()).collect()
        };
        let opt = |f: &dyn Fn(&LinkRow) -> Option<&str>| -> Vec<Option<String>> {
            links
                .iter()
                .map(|r| f(r).map(|s| pg_text(s).into_owned()))
                .collect()
        };
        self.client.execute(
            &self.st.insert_links,
            &[
                &scan_id,
                &text(&|r| &r.0.account_id),
                &text(&|r| &r.0.region),
                &text(&|r| &r.0.stem),
                &text(&|r| r.0.from_source()),
                &text(&|r| &r.1),
                &opt(&|r| r.2.as_deref()),
                &text(&|r| &r.3.kind),
                &text(&|r| &r.3.raw),
                &opt(&|r| r.3.to_type.as_deref()),
            ],
        )?;
        Ok(())
    }

    /// Upserts `rows` (the last of each key wins).
    fn upsert_rows(&mut self, scan_id: &str, rows: &[Pending]) -> Result<(), postgres::Error> {
        if rows.is_empty() {
            return Ok(());
        }
        let rows = last_of_each(rows, |r| {
            [&r.0.stem, &r.0.account_id, &r.0.region, &r.1.resource_id].map(|s| pg_text(s))
        });
        let col = |f: &dyn Fn(&Pending) -> &str| -> Vec<String> {
            rows.iter().map(|r| pg_text(f(r)).into_owned()).collect()
        };
        let items: Vec<_> = rows.iter().map(|r| pg_json(&r.1.item)).collect();
        let items: Vec<&str> = items.iter().map(|s| s.as_ref()).collect();
        self.client.execute(
            &self.st.insert_rows,
            &[
                &scan_id,
                &col(&|r| &r.0.stem),
                &col(&|r| &r.0.account_id),
                &col(&|r| &r.0.region),
                &col(&|r| &r.1.resource_id),
                &col(&|r| &r.0.service),
                &col(&|r| &r.0.operation),
                &col(&|r| &r.1.member),
                &col(&|r| &r.1.id_source),
                &items,
            ],
        )?;
        Ok(())
    }

    /// Writes the queued `resources` rows: copied, unless a key repeats among them
    /// (then upserted); rows of calls that began in an earlier transaction upserted.
    fn flush_rows(&mut self, scan_id: &str) -> Result<(), postgres::Error> {
        let rows = std::mem::take(&mut self.pending_rows);
        let upserts = std::mem::take(&mut self.pending_upserts);
        // The calls whose rows go in now and whose end has not come: their later rows
        // may repeat a key of these.
        let ended: HashSet<(&str, &str, &str)> = self
            .pending_calls
            .iter()
            .map(|r| (r.account_id.as_str(), r.region.as_str(), r.stem.as_str()))
            .collect();
        let mut last: Option<&Arc<CallKey>> = None;
        for (call, _) in &rows {
            if last.is_some_and(|l| Arc::ptr_eq(l, call)) {
                continue;
            }
            last = Some(call);
            if !ended.contains(&(
                call.account_id.as_str(),
                call.region.as_str(),
                call.stem.as_str(),
            )) {
                self.spanning.insert((
                    call.account_id.clone(),
                    call.region.clone(),
                    call.stem.clone(),
                ));
            }
        }
        drop(ended);
        let repeated = repeats(&rows, |r| {
            [&r.0.stem, &r.0.account_id, &r.0.region, &r.1.resource_id].map(|s| pg_text(s))
        });
        if repeated {
            self.upsert_rows(scan_id, &rows)?;
        } else if !rows.is_empty() {
            let mut copy = CopyRows::new(10);
            for (call, r) in &rows {
                copy.row()
                    .text(scan_id)
                    .text(&call.stem)
                    .text(&call.account_id)
                    .text(&call.region)
                    .text(&r.resource_id)
                    .text(&call.service)
                    .text(&call.operation)
                    .text(&r.member)
                    .text(&r.id_source)
                    .jsonb(&r.item);
            }
            let st = self.st.copy_rows.clone();
            self.copy(&st, copy)?;
        }
        self.upsert_rows(scan_id, &upserts)
    }

    /// Writes the queued `inventory` rows: copied, unless a key repeats among them
    /// (then upserted, the last one winning).
    fn flush_inventory(&mut self, scan_id: &str) -> Result<(), postgres::Error> {
        if self.pending_inventory.is_empty() {
            return Ok(());
        }
        fn key<'a>((c, r): &'a (Arc<CallKey>, Resource)) -> [Cow<'a, str>; 4] {
            [
                c.stem.as_str(),
                c.account_id.as_str(),
                row_region(r, &c.region),
                r.resource_id.as_str(),
            ]
            .map(pg_text)
        }
        if !repeats(&self.pending_inventory, key) {
            let mut copy = CopyRows::new(14);
            for (c, r) in &self.pending_inventory {
                copy.row()
                    .text(scan_id)
                    .text(&c.account_id)
                    .text(row_region(r, &c.region))
                    .text(&c.service)
                    .text(&r.resource_type)
                    .opt(r.cfn_type.as_deref())
                    .text(&r.resource_id)
                    .opt(r.arn.as_deref())
                    .opt(r.name.as_deref())
                    .opt(r.created.as_deref())
                    .jsonb(&tags_json(r))
                    .text(&c.stem)
                    .opt(r.arn_source)
                    .text(&r.native_id);
            }
            let st = self.st.copy_inventory.clone();
            self.copy(&st, copy)?;
            return Ok(());
        }
        let rows = last_of_each(&self.pending_inventory, key);
        let text = |f: &dyn for<'a> Fn(&'a CallKey, &'a Resource) -> &'a str| {
            rows.iter()
                .map(|(c, r)| pg_text(f(c, r)).into_owned())
                .collect::<Vec<String>>()
        };
        let opt = |f: &dyn Fn(&Resource) -> Option<&str>| -> Vec<Option<String>> {
            rows.iter()
                .map(|(_, r)| f(r).map(|s| pg_text(s).into_owned()))
                .collect()
        };
        let tags: Vec<String> = rows
            .iter()
            .map(|(_, r)| pg_json(&tags_json(r)).into_owned())
            .collect();
        self.client.execute(
            &self.st.insert_inventory,
            &[
                &scan_id,
                &text(&|c, _| &c.account_id),
                &text(&|c, r| row_region(r, &c.region)),
                &text(&|c, _| &c.service),
                &text(&|_, r| &r.resource_type),
                &opt(&|r| r.cfn_type.as_deref()),
                &text(&|_, r| &r.resource_id),
                &opt(&|r| r.arn.as_deref()),
                &opt(&|r| r.name.as_deref()),
                &opt(&|r| r.created.as_deref()),
                &tags,
                &text(&|c, _| &c.stem),
                &opt(&|r| r.arn_source),
                &text(&|_, r| &r.native_id),
            ],
        )?;
        Ok(())
    }

    /// Writes the queued rows, inventory rows, additions, links and calls.
    pub(super) fn flush(&mut self) -> Result<(), postgres::Error> {
        let scan_id = self.scan_id();
        self.flush_rows(&scan_id)?;
        self.flush_inventory(&scan_id)?;
        self.flush_enrich(&scan_id)?;
        self.flush_links(&scan_id)?;
        self.pending_inventory.clear();
        if !self.pending_calls.is_empty() {
            // One row per call (the last record wins), as one INSERT needs.
            let mut last: HashMap<(&str, &str, &str), usize> = HashMap::new();
            for (i, r) in self.pending_calls.iter().enumerate() {
                last.insert((&r.account_id, &r.region, &r.stem), i);
            }
            let mut keep: Vec<usize> = last.into_values().collect();
            keep.sort_unstable();
            let calls: Vec<&CallRecord> = keep.iter().map(|i| &self.pending_calls[*i]).collect();
            let text = |f: &dyn Fn(&CallRecord) -> &str| -> Vec<String> {
                calls.iter().map(|r| pg_text(f(r)).into_owned()).collect()
            };
            let opt = |f: &dyn Fn(&CallRecord) -> Option<&str>| -> Vec<Option<String>> {
                calls
                    .iter()
                    .map(|r| f(r).map(|s| pg_text(s).into_owned()))
                    .collect()
            };
            let pages: Vec<i64> = calls.iter().map(|r| i64::from(r.pages)).collect();
            let items: Vec<i64> = calls.iter().map(|r| int(r.items)).collect();
            let durations: Vec<i64> = calls.iter().map(|r| int(r.duration_ms)).collect();
            let absent: Vec<i64> = calls.iter().map(|r| int(r.absent)).collect();
            self.client.execute(
                &self.st.upsert_calls,
                &[
                    &scan_id,
                    &text(&|r| &r.account_id),
                    &text(&|r| &r.region),
                    &text(&|r| &r.stem),
                    &text(&|r| &r.service),
                    &text(&|r| &r.function),
                    &text(&|r| &r.operation),
                    &text(&|r| r.status.as_str()),
                    &opt(&|r| r.error_code.as_deref()),
                    &opt(&|r| r.error_message.as_deref()),
                    &opt(&|r| r.request_id.as_deref()),
                    &pages,
                    &items,
                    &durations,
                    &opt(&|r| r.parent.as_deref()),
                    &absent,
                ],
            )?;
            self.pending_calls.clear();
        }
        Ok(())
    }
}
