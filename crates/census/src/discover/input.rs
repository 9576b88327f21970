//! Checking what the user typed: account ids, OU ids, role ARNs, and lists of them in
//! files. Every error is one sentence naming the flag or file and line, the value, and
//! the fix.

use std::path::Path;

use super::DiscoverError;
use crate::auth::{is_account_id, RoleArn};

/// What a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// 12-digit account ids (`--accounts`, `--exclude-accounts`).
    AccountIds,
    /// IAM role ARNs (`--role-arns`, `--role-arns-file`, `--org-role-arn`).
    RoleArns,
    /// OU or root ids (`--ou`, `--exclude-ou`).
    OuIds,
}

/// Checks one value of a list; `Err` is the reason and the fix.
pub fn check(kind: ListKind, value: &str) -> Result<(), String> {
    match kind {
        ListKind::AccountIds => check_account_id(value),
        ListKind::OuIds => check_ou_id(value),
        ListKind::RoleArns => RoleArn::parse(value).map(|_| ()),
    }
}

fn check_account_id(value: &str) -> Result<(), String> {
    if is_account_id(value) {
        return Ok(());
    }
    if !value.is_empty() && value.len() < 12 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "is not an AWS account id: it has {} digits, not 12 (a leading zero lost by a spreadsheet? write it as {:0>12})",
            value.len(),
            value
        ));
    }
    Err("is not an AWS account id (12 digits, such as 123456789012)".into())
}

fn check_ou_id(value: &str) -> Result<(), String> {
    let lower_alnum = |s: &str, min: usize| {
        (min..=32).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    };
    let ok = match value.strip_prefix("ou-") {
        Some(rest) => rest
            .split_once('-')
            .is_some_and(|(root, ou)| lower_alnum(root, 4) && lower_alnum(ou, 8)),
        None => value.strip_prefix("r-").is_some_and(|r| lower_alnum(r, 4)),
    };
    if ok {
        Ok(())
    } else {
        Err("is not an OU id (ou-abcd-12345678, or a root id such as r-abcd; aws organizations list-organizational-units-for-parent lists them)".into())
    }
}

/// Checks every value given to `flag`.
pub(crate) fn check_all(
    flag: &str,
    kind: ListKind,
    values: &[String],
) -> Result<(), DiscoverError> {
    for v in values {
        check(kind, v).map_err(|e| DiscoverError::Input(format!("{flag}: {v:?} {e}")))?;
    }
    Ok(())
}

/// Reads a list file: values separated by newlines, commas or blanks; `#` starts a
/// comment. Every value is checked; an error names the file and line.
pub fn read_list(path: &Path, kind: ListKind) -> Result<Vec<String>, DiscoverError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DiscoverError::Input(format!("{}: cannot read it: {e}", path.display())))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default();
        for value in line.split(|c: char| c == ',' || c.is_whitespace()) {
            let value = value.trim_matches(|c| c == '"' || c == '\'');
            if value.is_empty() {
                continue;
            }
            check(kind, value).map_err(|e| {
                DiscoverError::Input(format!("{}:{}: {value:?} {e}", path.display(), n + 1))
            })?;
            out.push(value.to_string());
        }
    }
    Ok(out)
}

/// The values of a flag that takes "ids or a file": each argument is either a file to
/// read with [`read_list`] (an existing path, or `file://path`) or values separated by
/// commas. Every value is checked.
pub fn expand_list(
    flag: &str,
    args: &[String],
    kind: ListKind,
) -> Result<Vec<String>, DiscoverError> {
    let mut out = Vec::new();
    for arg in args {
        let file = arg.strip_prefix("file://").unwrap_or(arg);
        let path = Path::new(file);
        if arg.starts_with("file://") || (path.is_file() && check(kind, arg).is_err()) {
            out.extend(read_list(path, kind)?);
            continue;
        }
        for value in arg.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            check(kind, value).map_err(|e| {
                let hint = if kind != ListKind::RoleArns && value.contains('/') {
                    " (no such file either)"
                } else {
                    ""
                };
                DiscoverError::Input(format!("{flag}: {value:?} {e}{hint}"))
            })?;
            out.push(value.to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert!(check(ListKind::AccountIds, "123456789012").is_ok());
        let e = check(ListKind::AccountIds, "12345678901").unwrap_err();
        assert!(e.contains("012345678901"), "{e}");
        assert!(check(ListKind::AccountIds, "12345678901a").is_err());
        assert!(check(ListKind::OuIds, "ou-ab12-abcd1234").is_ok());
        assert!(check(ListKind::OuIds, "r-ab12").is_ok());
        assert!(check(ListKind::OuIds, "ou-AB12-abcd1234").is_err());
        assert!(check(ListKind::OuIds, "Workloads").is_err());
    }

    #[test]
    fn files_and_lists() {
        let dir = std::env::temp_dir().join(format!("census-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("accounts.txt");
        std::fs::write(
            &file,
            "# prod\n111111111111, 222222222222\n\n333333333333 # the last\n",
        )
        .unwrap();
        let got = expand_list(
            "--accounts",
            &[
                file.display().to_string(),
                "444444444444,555555555555".into(),
            ],
            ListKind::AccountIds,
        )
        .unwrap();
        assert_eq!(got.len(), 5);
        std::fs::write(&file, "111111111111\n22222\n").unwrap();
        let e = read_list(&file, ListKind::AccountIds)
            .unwrap_err()
            .to_string();
        assert!(e.contains("accounts.txt:2: \"22222\""), "{e}");
        let e = expand_list(
            "--accounts",
            &["nope/file.txt".into()],
            ListKind::AccountIds,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("--accounts: \"nope/file.txt\" is not an AWS account id"),
            "{e}"
        );
        assert!(e.contains("no such file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
