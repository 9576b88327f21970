//! Probe: RSS after loading every bundled service model (outline only), then after
//! decoding every operation. Not a benchmark; prints figures.
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
    let mut ops = 0;
    for m in &models {
        for (_, _op) in m.operations.iter() {
            ops += 1;
        }
    }
    println!("{ops} operations decoded: {}", rss());
}
