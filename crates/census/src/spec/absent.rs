//! Placeholder until the absent-error classification lands (helper branch `absent`).

/// Whether error `code` of a detail call means the item has none of what it reads.
pub fn is_absent(_service: &str, _operation: &str, code: &str) -> bool {
    code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundError")
        || code.ends_with("NotFoundException")
}
