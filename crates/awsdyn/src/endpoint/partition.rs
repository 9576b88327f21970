//! `partitions.json`: which partition (aws, aws-cn, aws-us-gov, ...) a region belongs
//! to, and that partition's outputs (DNS suffixes, FIPS and dual-stack support), as
//! the rule sets' `aws.partition` function returns them.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use super::EndpointError;

/// One partition: its id, the regions it claims and its outputs.
#[derive(Debug)]
pub struct Partition {
    id: String,
    region_regex: Regex,
    /// The partition's `outputs` with `name` set to the partition id.
    outputs: Map<String, Value>,
}

impl Partition {
    /// The partition id: `aws`, `aws-cn`, `aws-us-gov`, ...
    pub fn id(&self) -> &str {
        &self.id
    }

    /// One output (`name`, `dnsSuffix`, `dualStackDnsSuffix`, `supportsFIPS`,
    /// `supportsDualStack`, `implicitGlobalRegion`, ...).
    pub fn output(&self, key: &str) -> Option<&Value> {
        self.outputs.get(key)
    }

    /// The partition's DNS suffix (`amazonaws.com`).
    pub fn dns_suffix(&self) -> &str {
        self.output("dnsSuffix")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Every partition of `partitions.json`, in file order.
#[derive(Debug)]
pub struct Partitions {
    list: Vec<Partition>,
    /// Region name -> index of the partition that lists it explicitly.
    by_region: HashMap<String, usize>,
}

impl Partitions {
    /// The partitions of the bundled `partitions.json`, parsed once.
    pub fn bundled() -> Arc<Partitions> {
        bundled_static().clone()
    }

    /// Parses `partitions.json` (`{"partitions": [{id, regionRegex, regions, outputs}]}`).
    pub fn from_json(json: &Value) -> Result<Partitions, EndpointError> {
        let bad = |m: String| EndpointError::RuleSet(format!("partitions.json: {m}"));
        let items = json["partitions"]
            .as_array()
            .ok_or_else(|| bad("no `partitions` list".into()))?;
        let mut list = Vec::with_capacity(items.len());
        let mut by_region = HashMap::new();
        for (i, p) in items.iter().enumerate() {
            let id = p["id"]
                .as_str()
                .ok_or_else(|| bad(format!("partition {i} has no id")))?
                .to_string();
            let pattern = p["regionRegex"].as_str().unwrap_or("^$");
            let region_regex =
                Regex::new(pattern).map_err(|e| bad(format!("{id}: regionRegex: {e}")))?;
            let mut outputs = p["outputs"].as_object().cloned().unwrap_or_default();
            outputs.insert("name".into(), Value::String(id.clone()));
            if let Some(regions) = p["regions"].as_object() {
                for region in regions.keys() {
                    by_region.entry(region.clone()).or_insert(i);
                }
            }
            list.push(Partition {
                id,
                region_regex,
                outputs,
            });
        }
        if list.is_empty() {
            return Err(bad("no partitions".into()));
        }
        Ok(Partitions { list, by_region })
    }

    /// Every partition, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Partition> {
        self.list.iter()
    }

    /// The partition with this id (`aws`, `aws-cn`, ...).
    pub fn get(&self, id: &str) -> Option<&Partition> {
        self.list.iter().find(|p| p.id == id)
    }

    /// The partition of a region: the one that lists it by name, else the first whose
    /// `regionRegex` matches it, else `aws` (the first partition), as the rules-engine
    /// specification prescribes.
    pub fn find(&self, region: &str) -> &Partition {
        if let Some(&i) = self.by_region.get(region) {
            return &self.list[i];
        }
        self.list
            .iter()
            .find(|p| p.region_regex.is_match(region))
            .or_else(|| self.list.iter().find(|p| p.id == "aws"))
            .unwrap_or(&self.list[0])
    }
}

fn bundled_static() -> &'static Arc<Partitions> {
    static P: OnceLock<Arc<Partitions>> = OnceLock::new();
    P.get_or_init(|| {
        let json = crate::model::partitions().expect("the bundled partitions.json is damaged");
        Arc::new(Partitions::from_json(&json).expect("the bundled partitions.json is invalid"))
    })
}

/// The region that a partition's global endpoints (IAM, Organizations, STS's global
/// endpoint, ...) are signed for: the partition's `implicitGlobalRegion` in the bundled
/// `partitions.json` (`us-east-1` for `aws`); `None` for a partition it does not list.
pub fn global_region(partition: &str) -> Option<&'static str> {
    bundled_static()
        .get(partition)?
        .output("implicitGlobalRegion")?
        .as_str()
}

/// The id of the partition a region belongs to, as the endpoint rules resolve it
/// ([`Partitions::find`] over the bundled `partitions.json`).
pub fn partition_of_region(region: &str) -> &'static str {
    bundled_static().find(region).id()
}

// ---------------------------------------------------------------------------
// A small backtracking regular-expression matcher: enough for `regionRegex`
// (anchors, literals, `\d \w \s` and escaped punctuation, classes `[a-z]`, groups
// with `|`, and the quantifiers `* + ? {n} {n,} {n,m}`).

#[derive(Debug)]
struct Regex {
    alts: Vec<Vec<Node>>,
}

#[derive(Debug)]
enum Node {
    Char(char),
    Any,
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Start,
    End,
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: usize,
        max: usize,
    },
}

impl Regex {
    fn new(pattern: &str) -> Result<Regex, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let alts = parse_alternatives(&chars, &mut pos)?;
        if pos != chars.len() {
            return Err(format!("unexpected `{}` at {pos}", chars[pos]));
        }
        Ok(Regex { alts })
    }

    fn is_match(&self, text: &str) -> bool {
        let s: Vec<char> = text.chars().collect();
        (0..=s.len()).any(|start| {
            self.alts
                .iter()
                .any(|alt| match_seq(alt, &s, start, &mut |_| true))
        })
    }
}

fn parse_alternatives(p: &[char], pos: &mut usize) -> Result<Vec<Vec<Node>>, String> {
    let mut alts = vec![Vec::new()];
    while *pos < p.len() {
        let c = p[*pos];
        match c {
            ')' => break,
            '|' => {
                *pos += 1;
                alts.push(Vec::new());
                continue;
            }
            _ => {}
        }
        *pos += 1;
        let node = match c {
            '^' => Node::Start,
            '$' => Node::End,
            '.' => Node::Any,
            '(' => {
                // Non-capturing groups read the same.
                if p.get(*pos) == Some(&'?') && p.get(*pos + 1) == Some(&':') {
                    *pos += 2;
                }
                let inner = parse_alternatives(p, pos)?;
                if p.get(*pos) != Some(&')') {
                    return Err("unclosed group".into());
                }
                *pos += 1;
                Node::Group(inner)
            }
            '[' => parse_class(p, pos)?,
            '\\' => {
                let e = *p.get(*pos).ok_or("trailing backslash")?;
                *pos += 1;
                escape_node(e)
            }
            '*' | '+' | '?' | '{' => return Err(format!("nothing to repeat before `{c}`")),
            c => Node::Char(c),
        };
        let node = parse_quantifier(p, pos, node)?;
        alts.last_mut().unwrap().push(node);
    }
    Ok(alts)
}

fn escape_node(e: char) -> Node {
    let class = |ranges: Vec<(char, char)>, negated| Node::Class { ranges, negated };
    let word = vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
    let space = vec![(' ', ' '), ('\t', '\r')];
    match e {
        'd' => class(vec![('0', '9')], false),
        'D' => class(vec![('0', '9')], true),
        'w' => class(word, false),
        'W' => class(word, true),
        's' => class(space, false),
        'S' => class(space, true),
        'n' => Node::Char('\n'),
        't' => Node::Char('\t'),
        c => Node::Char(c),
    }
}

fn parse_class(p: &[char], pos: &mut usize) -> Result<Node, String> {
    let mut negated = false;
    if p.get(*pos) == Some(&'^') {
        negated = true;
        *pos += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *p.get(*pos).ok_or("unclosed character class")?;
        *pos += 1;
        if c == ']' && !first {
            break;
        }
        first = false;
        let lo = if c == '\\' {
            let e = *p.get(*pos).ok_or("trailing backslash")?;
            *pos += 1;
            match escape_node(e) {
                Node::Class {
                    ranges: r,
                    negated: false,
                } => {
                    ranges.extend(r);
                    continue;
                }
                Node::Char(c) => c,
                _ => return Err(format!("unsupported escape \\{e} in a class")),
            }
        } else {
            c
        };
        if p.get(*pos) == Some(&'-') && p.get(*pos + 1).is_some_and(|&n| n != ']') {
            let hi = p[*pos + 1];
            *pos += 2;
            ranges.push((lo, hi));
        } else {
            ranges.push((lo, lo));
        }
    }
    Ok(Node::Class { ranges, negated })
}

fn parse_quantifier(p: &[char], pos: &mut usize, node: Node) -> Result<Node, String> {
    let (min, max) = match p.get(*pos) {
        Some('*') => (0, usize::MAX),
        Some('+') => (1, usize::MAX),
        Some('?') => (0, 1),
        Some('{') => {
            let close = p[*pos..]
                .iter()
                .position(|&c| c == '}')
                .ok_or("unclosed `{`")?;
            let body: String = p[*pos + 1..*pos + close].iter().collect();
            let num = |s: &str| {
                s.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad repeat {{{body}}}"))
            };
            let (min, max) = match body.split_once(',') {
                None => {
                    let n = num(&body)?;
                    (n, n)
                }
                Some((a, "")) => (num(a)?, usize::MAX),
                Some((a, b)) => (num(a)?, num(b)?),
            };
            *pos += close;
            (min, max)
        }
        _ => return Ok(node),
    };
    *pos += 1;
    Ok(Node::Repeat {
        node: Box::new(node),
        min,
        max,
    })
}

fn match_seq(seq: &[Node], s: &[char], i: usize, k: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((node, rest)) = seq.split_first() else {
        return k(i);
    };
    match node {
        Node::Start => i == 0 && match_seq(rest, s, i, k),
        Node::End => i == s.len() && match_seq(rest, s, i, k),
        Node::Group(alts) => alts
            .iter()
            .any(|alt| match_seq(alt, s, i, &mut |j| match_seq(rest, s, j, k))),
        Node::Repeat { node, min, max } => match_repeat(node, *min, *max, 0, rest, s, i, k),
        single => i < s.len() && match_char(single, s[i]) && match_seq(rest, s, i + 1, k),
    }
}

#[allow(clippy::too_many_arguments)]
fn match_repeat(
    node: &Node,
    min: usize,
    max: usize,
    count: usize,
    rest: &[Node],
    s: &[char],
    i: usize,
    k: &mut dyn FnMut(usize) -> bool,
) -> bool {
    // Greedy: one more repetition first (never an empty one), then the rest.
    if count < max
        && match_seq(std::slice::from_ref(node), s, i, &mut |j| {
            j > i && match_repeat(node, min, max, count + 1, rest, s, j, k)
        })
    {
        return true;
    }
    count >= min && match_seq(rest, s, i, k)
}

fn match_char(node: &Node, c: char) -> bool {
    match node {
        Node::Char(x) => *x == c,
        Node::Any => c != '\n',
        Node::Class { ranges, negated } => {
            ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_subset() {
        let r = Regex::new(r"^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$").unwrap();
        assert!(r.is_match("us-east-1"));
        assert!(r.is_match("mx-central-1"));
        assert!(!r.is_match("us-gov-west-1"));
        assert!(!r.is_match("cn-north-1"));
        assert!(!r.is_match("us-east-1a"));
        let r = Regex::new(r"^eusc\-(de)\-\w+\-\d+$").unwrap();
        assert!(r.is_match("eusc-de-east-1"));
        let r = Regex::new(r"a[b-d]{2,3}e?$").unwrap();
        assert!(r.is_match("xxabce"));
        assert!(r.is_match("abdd"));
        assert!(!r.is_match("ab"));
        assert!(!r.is_match("abbbbe"));
    }

    #[test]
    fn bundled_partitions() {
        let p = Partitions::bundled();
        assert_eq!(p.find("us-east-1").id(), "aws");
        assert_eq!(p.find("us-gov-west-1").id(), "aws-us-gov");
        assert_eq!(p.find("cn-north-1").id(), "aws-cn");
        assert_eq!(p.find("us-isob-east-1").id(), "aws-iso-b");
        assert_eq!(p.find("aws-global").id(), "aws");
        assert_eq!(p.find("aws-cn-global").id(), "aws-cn");
        assert_eq!(p.find("not a region").id(), "aws");
        assert_eq!(p.find("us-gov-east-1").dns_suffix(), "amazonaws.com");
        assert_eq!(p.find("cn-north-1").output("name").unwrap(), "aws-cn");
    }

    #[test]
    fn every_partition_has_its_own_global_region() {
        let parts = Partitions::bundled();
        assert!(parts.iter().count() >= 8);
        for p in parts.iter() {
            let region = global_region(p.id())
                .unwrap_or_else(|| panic!("partition {} has no global region", p.id()));
            assert_eq!(partition_of_region(region), p.id(), "{region}");
        }
        assert_eq!(global_region("aws"), Some("us-east-1"));
        assert_eq!(global_region("aws-cn"), Some("cn-northwest-1"));
        assert_eq!(global_region("aws-iso-e"), Some("eu-isoe-west-1"));
        assert_eq!(global_region("aws-iso-f"), Some("us-isof-south-1"));
        assert_eq!(global_region("aws-eusc"), Some("eusc-de-east-1"));
        assert_eq!(global_region("aws-nowhere"), None);
        assert_eq!(partition_of_region("eu-west-1"), "aws");
        assert_eq!(partition_of_region("us-gov-east-1"), "aws-us-gov");
    }
}
