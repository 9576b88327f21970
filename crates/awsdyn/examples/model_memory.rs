//! Probe: RSS after loading every bundled service model (outline only), after
//! decoding what the all preset's choice reads (the reads' operations, their input
//! shapes and output members), then after decoding every operation. Not a
//! benchmark; prints figures. `model_memory outlines` stops after the outlines (to
//! run under valgrind's massif with the global allocator below commented out).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("VmRSS") || l.starts_with("VmHWM"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    println!(
        "size_of: Operation {} B, ShapeRef {} B, Shape {} B",
        std::mem::size_of::<awsdyn::Operation>(),
        std::mem::size_of::<awsdyn::ShapeRef>(),
        std::mem::size_of::<awsdyn::Shape>()
    );
    println!("start: {}", rss());
    let services = awsdyn::model::services();
    let mut models = Vec::new();
    for e in services {
        let m = awsdyn::model::load(&e.name).unwrap();
        models.push(m);
    }
    println!("{} outlines: {}", models.len(), rss());
    if std::env::args().nth(1).as_deref() == Some("outlines") {
        return;
    }
    let (mut ops, mut shapes) = (0, 0);
    for m in &models {
        for name in m.operations.keys() {
            if !["List", "Describe", "Get"]
                .iter()
                .any(|v| name.starts_with(v))
            {
                continue;
            }
            let op = &m.operations[name];
            ops += 1;
            if let Some(i) = &op.input {
                let _ = m.shape(i.target);
                shapes += 1;
            }
            if let Some(o) = &op.output {
                for member in m.shape(o.target).members.values() {
                    let _ = m.shape(member.target);
                    shapes += 1;
                }
            }
        }
    }
    println!("{ops} reads, {shapes} shapes decoded: {}", rss());
    let mut ops = 0;
    for m in &models {
        for (_, _op) in m.operations.iter() {
            ops += 1;
        }
    }
    println!("{ops} operations decoded: {}", rss());
}
