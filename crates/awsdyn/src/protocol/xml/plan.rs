//! The parse plan: per structure, its members as the XML sees them.

use super::*;
use crate::protocol::pretty::Out;
use crate::protocol::ShapeWalk;

// ---------------------------------------------------------------------------
// The plan: per structure, its members as the XML sees them.

#[derive(Debug)]
pub(super) struct MemberPlan<'m> {
    /// The key in the output object.
    pub(super) name: &'m str,
    /// The key as printed JSON writes it: `"name": ` (empty in the value parser's
    /// plan, [`Plan::new`]).
    pub(super) key: Box<[u8]>,
    /// The element (or attribute) name.
    pub(super) xml_name: &'m str,
    pub(super) target: ShapeId,
    pub(super) kind: ShapeType,
    pub(super) flattened: bool,
    pub(super) attribute: bool,
    /// The member whose element followed this one's last time (learned while parsing;
    /// `NONE` when unknown). Responses repeat the same order, so this usually hits.
    pub(super) next: Cell<u16>,
}

/// No member.
pub(super) const NONE: u16 = u16::MAX;

#[derive(Debug, Default)]
pub(super) struct StructPlan<'m> {
    pub(super) members: Vec<MemberPlan<'m>>,
    /// Open-addressing table from element name to member: (name, member index), size a
    /// power of two. Holds each member's element name and, for a flattened list, the
    /// list member's `locationName` (botocore names the elements so; the Smithy tests
    /// use the member's name: both are accepted).
    table: Vec<Option<(&'m str, u16)>>,
    pub(super) has_attributes: bool,
    /// A tagged union: a single unknown child becomes `SDK_UNKNOWN_MEMBER`.
    pub(super) union: bool,
    /// The member whose element came first last time.
    pub(super) first: Cell<u16>,
    /// How many members the last instance had: the capacity of the next one's map.
    pub(super) size: Cell<u32>,
}

#[inline]
pub(super) fn name_hash(name: &[u8]) -> usize {
    // FNV-1a: element names are short.
    let mut h: u32 = 0x811c_9dc5;
    for &b in name {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h as usize
}

impl<'m> StructPlan<'m> {
    pub(super) fn build_table(&mut self, alt_names: &[(&'m str, u16)]) {
        let entries = self.members.len() + alt_names.len();
        let size = (entries * 2).next_power_of_two().max(4);
        self.table = vec![None; size];
        let mask = size - 1;
        let names: Vec<(&'m str, u16)> = self
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.attribute)
            .map(|(i, m)| (m.xml_name, i as u16))
            .chain(alt_names.iter().copied())
            .collect();
        for (name, i) in names {
            let mut slot = name_hash(name.as_bytes()) & mask;
            loop {
                match self.table[slot] {
                    None => {
                        self.table[slot] = Some((name, i));
                        break;
                    }
                    // The first member with a name keeps it.
                    Some((n, _)) if n == name => break,
                    Some(_) => slot = (slot + 1) & mask,
                }
            }
        }
    }

    /// The member whose element is named `name`, trying first the member `predicted`
    /// (the one that followed the previous member last time: elements mostly come in the
    /// same order).
    #[inline]
    pub(super) fn find(&self, predicted: u16, name: &[u8]) -> Option<usize> {
        match self.members.get(usize::from(predicted)) {
            Some(m) if !m.attribute && m.xml_name.as_bytes() == name => {
                Some(usize::from(predicted))
            }
            _ => self.lookup(name),
        }
    }

    /// The member whose element is named `name`.
    #[inline]
    pub(super) fn lookup(&self, name: &[u8]) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut slot = name_hash(name) & mask;
        loop {
            match self.table[slot] {
                None => return None,
                Some((n, i)) if n.as_bytes() == name => return Some(i as usize),
                Some(_) => slot = (slot + 1) & mask,
            }
        }
    }
}

/// Map key/value element names and targets.
#[derive(Debug)]
pub(super) struct MapPlan<'m> {
    pub(super) key_name: &'m str,
    pub(super) value_name: &'m str,
    pub(super) value: ShapeId,
}

/// The structures reachable from the root shape, compiled.
pub(super) struct Plan<'m> {
    /// ShapeId -> index in `structs` + 1 (0: not a planned structure).
    index: Vec<u32>,
    structs: Vec<StructPlan<'m>>,
}

pub(super) fn ref_location_name<'m>(model: &'m ServiceModel, r: &'m ShapeRef) -> Option<&'m str> {
    r.location_name
        .as_deref()
        .or_else(|| model.shape(r.target).location_name.as_deref())
}

pub(super) fn map_plan<'m>(model: &'m ServiceModel, id: ShapeId) -> Option<MapPlan<'m>> {
    let shape = model.shape(id);
    let key = shape.key.as_ref()?;
    let value = shape.value.as_ref()?;
    Some(MapPlan {
        key_name: ref_location_name(model, key).unwrap_or("key"),
        value_name: ref_location_name(model, value).unwrap_or("value"),
        value: value.target,
    })
}

impl<'m> Plan<'m> {
    /// The plan of the value parser: members without their printed keys.
    pub(super) fn new(model: &'m ServiceModel, root: ShapeId) -> Plan<'m> {
        Plan::build(model, root, false)
    }

    /// The plan of the streaming writer: members with their printed keys.
    pub(super) fn printing(model: &'m ServiceModel, root: ShapeId) -> Plan<'m> {
        Plan::build(model, root, true)
    }

    fn build(model: &'m ServiceModel, root: ShapeId, keys: bool) -> Plan<'m> {
        let mut index = vec![0u32; model.shapes.len()];
        let mut structs = Vec::new();
        let mut walk = ShapeWalk::new(model, root);
        while let Some(id) = walk.next() {
            let shape = model.shape(id);
            match shape.kind {
                ShapeType::Structure => {
                    let mut plan = StructPlan {
                        first: Cell::new(NONE),
                        union: shape.union,
                        ..StructPlan::default()
                    };
                    let mut alt_names = Vec::new();
                    for (name, r) in &shape.members {
                        if matches!(
                            r.location,
                            Some(Location::Header | Location::Headers | Location::StatusCode)
                        ) {
                            continue;
                        }
                        let target = model.shape(r.target);
                        let flattened = r.flattened || target.flattened;
                        let xml_name = ref_location_name(model, r).unwrap_or(name);
                        if flattened && target.kind == ShapeType::List {
                            if let Some(alt) = target
                                .member
                                .as_ref()
                                .and_then(|m| ref_location_name(model, m))
                            {
                                alt_names.push((alt, plan.members.len() as u16));
                            }
                        }
                        plan.has_attributes |= r.xml_attribute;
                        plan.members.push(MemberPlan {
                            name,
                            key: if keys {
                                Out::key_bytes(name)
                            } else {
                                Box::default()
                            },
                            xml_name,
                            target: r.target,
                            kind: target.kind,
                            flattened,
                            attribute: r.xml_attribute,
                            next: Cell::new(NONE),
                        });
                        walk.push(r.target);
                        if plan.members.len() >= usize::from(NONE) {
                            break;
                        }
                    }
                    plan.build_table(&alt_names);
                    structs.push(plan);
                    index[id as usize] = structs.len() as u32;
                }
                ShapeType::List | ShapeType::Map => {
                    for r in [&shape.member, &shape.key, &shape.value]
                        .into_iter()
                        .flatten()
                    {
                        walk.push(r.target);
                    }
                }
                _ => {}
            }
        }
        Plan { index, structs }
    }

    #[inline]
    pub(super) fn structure(&self, id: ShapeId) -> &StructPlan<'m> {
        let i = self.index[id as usize];
        assert!(i != 0, "every structure reachable from the root is planned");
        &self.structs[i as usize - 1]
    }
}
