//! The generated organization: accounts, OUs, tags, and the resources each account has
//! in each region. Everything is derived from the account count, so two runs with the
//! same `--accounts` serve the same data.

use std::collections::HashMap;

/// The management account: the one any credentials that fakeaws did not issue act as
/// (moto's default account, so `AWS_ACCESS_KEY_ID=testing` works as it does there).
pub const MANAGEMENT: &str = "123456789012";
pub const ORG_ID: &str = "o-fakeaws000";
pub const ROOT_ID: &str = "r-fake";

/// The regions DescribeRegions lists.
pub const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"];

pub struct Ou {
    pub id: String,
    pub name: String,
    pub parent: String,
}

pub struct Account {
    pub id: String,
    pub name: String,
    pub email: String,
    /// The OU (or root) the account sits in.
    pub parent: String,
    pub environment: &'static str,
    pub owner: String,
}

pub struct Org {
    pub ous: Vec<Ou>,
    /// Accounts in id order; the management account first.
    pub accounts: Vec<Account>,
    index: HashMap<String, usize>,
    /// Indexes into `accounts`, by parent id.
    children: HashMap<String, Vec<usize>>,
}

/// Where members go, in turn (OU index in `Org::ous`, or `None` for the root).
const PLACEMENTS: &[(Option<usize>, &str)] = &[
    (Some(1), "prod"),
    (Some(2), "dev"),
    (Some(3), "sandbox"),
    (Some(0), "workloads"),
    (None, "shared"),
];

impl Org {
    /// An organization of `n` accounts in all (the management account and n-1 members).
    pub fn new(n: usize) -> Org {
        let ou = |id: &str, name: &str, parent: &str| Ou {
            id: id.into(),
            name: name.into(),
            parent: parent.into(),
        };
        let ous = vec![
            ou("ou-fake-00000001", "Workloads", ROOT_ID),
            ou("ou-fake-00000002", "Prod", "ou-fake-00000001"),
            ou("ou-fake-00000003", "Dev", "ou-fake-00000001"),
            ou("ou-fake-00000004", "Sandbox", ROOT_ID),
        ];
        let mut accounts = vec![Account {
            id: MANAGEMENT.into(),
            name: "management".into(),
            email: "management@fakeaws.example".into(),
            parent: ROOT_ID.into(),
            environment: "shared",
            owner: "team-0".into(),
        }];
        for i in 1..n.max(1) {
            let (ou, environment) = PLACEMENTS[(i - 1) % PLACEMENTS.len()];
            let name = format!("{environment}-{i:04}");
            accounts.push(Account {
                // 12 digits, above the management account's id so that id order is
                // creation order.
                id: format!("{:012}", 200_000_000_000u64 + i as u64),
                email: format!("{name}@fakeaws.example"),
                name,
                parent: ou.map_or(ROOT_ID.to_string(), |k| ous[k].id.clone()),
                environment,
                owner: format!("team-{}", i % 3),
            });
        }
        let index = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let mut children: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, a) in accounts.iter().enumerate() {
            children.entry(a.parent.clone()).or_default().push(i);
        }
        Org {
            ous,
            accounts,
            index,
            children,
        }
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.index.get(id).map(|&i| &self.accounts[i])
    }

    /// The accounts directly under a parent (the root or an OU).
    pub fn accounts_under(&self, parent: &str) -> Vec<&Account> {
        self.children
            .get(parent)
            .map(|v| v.iter().map(|&i| &self.accounts[i]).collect())
            .unwrap_or_default()
    }

    pub fn ous_under<'a>(&'a self, parent: &'a str) -> impl Iterator<Item = &'a Ou> + 'a {
        self.ous.iter().filter(move |o| o.parent == parent)
    }

    pub fn is_parent(&self, id: &str) -> bool {
        id == ROOT_ID || self.ous.iter().any(|o| o.id == id)
    }
}

/// How many resources of `kind` an account has in a region: 1 to 5, fixed by a hash
/// of the three.
pub fn count(account: &str, region: &str, kind: &str) -> usize {
    // FNV-1a.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in account.bytes().chain(region.bytes()).chain(kind.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    1 + (h % 5) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape() {
        let org = Org::new(11);
        assert_eq!(org.accounts.len(), 11);
        assert_eq!(org.accounts[0].id, MANAGEMENT);
        assert_eq!(org.accounts[1].id, "200000000001");
        let placed: usize = [ROOT_ID]
            .into_iter()
            .chain(org.ous.iter().map(|o| o.id.as_str()))
            .map(|p| org.accounts_under(p).len())
            .sum();
        assert_eq!(placed, 11);
        assert!(org.account("200000000010").is_some());
        assert!(org.account("200000000011").is_none());
        let c = count("200000000001", "us-east-1", "sqs");
        assert!((1..=5).contains(&c));
    }
}
