//! The organization above the accounts: organizations, roots and OUs as nodes, and
//! the `contains` edges from them down to the accounts, built from the accounts'
//! `org_id`, `ou_id` and `ou_path` (see the module above for the ids). Not for the
//! accounts' or resources' own nodes.

use std::collections::BTreeMap;

use super::{text, AccountRow, Node};

/// The organizations, roots and OUs above the accounts, and the `contains` edges
/// between them and down to the accounts (see the module's notes).
#[derive(Debug, Default)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    /// (parent, child) node ids.
    pub contains: Vec<(String, String)>,
}

impl Tree {
    pub(crate) fn build(accounts: &[AccountRow]) -> Tree {
        // Per organization: the management account, the root's id, and OU ids by path.
        #[derive(Default)]
        struct Org {
            management: Option<String>,
            root_id: Option<String>,
            root_name: Option<String>,
            ou_ids: BTreeMap<String, String>,
            paths: std::collections::BTreeSet<String>,
        }
        let mut orgs: BTreeMap<String, Org> = BTreeMap::new();
        for a in accounts {
            let Some(org_id) = a.org_id.as_deref().filter(|o| !o.is_empty()) else {
                continue;
            };
            let org = orgs.entry(org_id.to_string()).or_default();
            if org.management.is_none() {
                org.management = a.management_account_id.clone();
            }
            let Some(path) = a.ou_path.as_deref().filter(|p| !p.is_empty()) else {
                continue;
            };
            let mut segments = path.split('/');
            if org.root_name.is_none() {
                org.root_name = segments.next().map(str::to_string);
            }
            match a.ou_id.as_deref() {
                Some(id) if id.starts_with("r-") => org.root_id = Some(id.to_string()),
                Some(id) if !id.is_empty() && path.contains('/') => {
                    org.ou_ids.insert(path.to_string(), id.to_string());
                }
                _ => {}
            }
            // Every OU on the way: `Root/A`, `Root/A/B`.
            let mut prefix = String::new();
            for (i, seg) in path.split('/').enumerate() {
                if i > 0 {
                    prefix.push('/');
                }
                prefix.push_str(seg);
                if i > 0 {
                    org.paths.insert(prefix.clone());
                }
            }
        }
        let mut tree = Tree::default();
        let mut parent_of_account: BTreeMap<&str, String> = BTreeMap::new();
        for (org_id, org) in &orgs {
            let mut p = Vec::new();
            text(&mut p, "org_id", Some(org_id));
            text(&mut p, "management_account_id", org.management.as_deref());
            tree.nodes.push(Node {
                id: org_id.clone(),
                kind: "organization",
                label: org_id.clone(),
                props: p,
            });
            let root_id = org
                .root_id
                .clone()
                .unwrap_or_else(|| format!("census:root:{org_id}"));
            let has_root = org.root_name.is_some();
            if has_root {
                let name = org.root_name.clone().unwrap_or_default();
                let mut p = Vec::new();
                text(&mut p, "name", Some(&name));
                text(&mut p, "org_id", Some(org_id));
                text(&mut p, "path", Some(&name));
                tree.nodes.push(Node {
                    id: root_id.clone(),
                    kind: "root",
                    label: name,
                    props: p,
                });
                tree.contains.push((org_id.clone(), root_id.clone()));
            }
            let ou_id = |path: &str| -> String {
                if !path.contains('/') {
                    return root_id.clone();
                }
                org.ou_ids
                    .get(path)
                    .cloned()
                    .unwrap_or_else(|| format!("census:ou:{org_id}:{path}"))
            };
            // Parents before children: a path sorts after its prefix.
            for path in &org.paths {
                let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
                let id = ou_id(path);
                let mut p = Vec::new();
                text(&mut p, "name", Some(name));
                text(&mut p, "org_id", Some(org_id));
                text(&mut p, "path", Some(path));
                tree.nodes.push(Node {
                    id: id.clone(),
                    kind: "ou",
                    label: name.to_string(),
                    props: p,
                });
                tree.contains.push((ou_id(parent), id));
            }
            for a in accounts
                .iter()
                .filter(|a| a.org_id.as_deref() == Some(org_id))
            {
                let parent = match a.ou_path.as_deref().filter(|p| !p.is_empty()) {
                    Some(path) => ou_id(path),
                    None => org_id.clone(),
                };
                parent_of_account.insert(&a.id, parent);
            }
        }
        for (account, parent) in parent_of_account {
            tree.contains.push((parent, account.to_string()));
        }
        tree
    }
}
