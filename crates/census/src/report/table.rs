//! The account metadata report's rows and its CSV file.

use std::collections::BTreeMap;

/// The columns, in order: the eleven of the report many organizations already use,
/// then `Notes` (empty unless something went wrong for the row).
pub const COLUMNS: [&str; 12] = [
    "Account_Id",
    "Account_Name",
    "Org_ID",
    "Tenant_Name",
    "CSP",
    "Billing_Account_State",
    "Region_Group",
    "Regions",
    "Tenant_ID",
    "Environment",
    "Aide_ID",
    "Notes",
];

/// The CSP column's value.
pub const CSP: &str = "AWS";

/// One account's row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    pub account_id: String,
    pub account_name: String,
    pub org_id: String,
    pub tenant_name: String,
    /// The account's Organizations status: `ACTIVE`, `SUSPENDED`...
    pub billing_account_state: String,
    pub region_group: String,
    /// Sorted region names.
    pub regions: Vec<String>,
    pub tenant_id: String,
    pub environment: String,
    pub aide_id: String,
    pub notes: Vec<String>,
}

impl Row {
    /// The cells, in [`COLUMNS`] order. Regions are joined with `,`, notes with `; `.
    pub fn cells(&self) -> [String; 12] {
        [
            self.account_id.clone(),
            self.account_name.clone(),
            self.org_id.clone(),
            self.tenant_name.clone(),
            CSP.to_string(),
            self.billing_account_state.clone(),
            self.region_group.clone(),
            self.regions.join(","),
            self.tenant_id.clone(),
            self.environment.clone(),
            self.aide_id.clone(),
            self.notes.join("; "),
        ]
    }
}

/// The CSV text of a report: a header line, then one line per row (CRLF-free,
/// quoted where needed). A cell a spreadsheet would take for a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP
/// advises, so that opening the report runs nothing.
pub fn to_csv(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for row in rows {
        w.write_record(row.cells().iter().map(|c| no_formula(c).into_owned()))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// `cell`, with a `'` before it when a spreadsheet would read it as a formula.
pub fn no_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The report's file name: `aws-{management account id}-account-metadata-report-{timestamp}.csv`
/// (an id that is not 12 digits made a plain file name).
pub fn file_name(management_account_id: &str, timestamp: &str) -> String {
    let id = crate::account::safe_id(management_account_id);
    format!("aws-{id}-account-metadata-report-{timestamp}.csv")
}

/// Tag keys to read a column from: the first key the account has wins, an exact match
/// before a case-insensitive one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagKeys(pub Vec<String>);

impl TagKeys {
    /// The value of the first of these keys that `tags` has.
    pub fn lookup(&self, tags: &BTreeMap<String, String>) -> String {
        for key in &self.0 {
            if let Some(v) = tags.get(key) {
                return v.clone();
            }
        }
        for key in &self.0 {
            if let Some((_, v)) = tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
                return v.clone();
            }
        }
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_text() {
        let row = Row {
            account_id: "123456789012".into(),
            account_name: "prod, main".into(),
            org_id: "o-abc".into(),
            billing_account_state: "ACTIVE".into(),
            region_group: "multi".into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            notes: vec!["a".into(), "b".into()],
            ..Row::default()
        };
        let text = String::from_utf8(to_csv(&[row]).unwrap()).unwrap();
        assert_eq!(
            text,
            "Account_Id,Account_Name,Org_ID,Tenant_Name,CSP,Billing_Account_State,Region_Group,Regions,Tenant_ID,Environment,Aide_ID,Notes\n\
             123456789012,\"prod, main\",o-abc,,AWS,ACTIVE,multi,\"eu-west-1,us-east-1\",,,,a; b\n"
        );
        assert_eq!(
            file_name("123456789012", "20261124T063000Z"),
            "aws-123456789012-account-metadata-report-20261124T063000Z.csv"
        );
    }

    #[test]
    fn formulas_are_defused() {
        let row = Row {
            account_id: "123456789012".into(),
            account_name: "=HYPERLINK(\"http://x\",\"y\")".into(),
            org_id: "+1".into(),
            tenant_name: "-2".into(),
            environment: "@SUM(A1)".into(),
            aide_id: "\tx".into(),
            region_group: "a=b".into(),
            notes: vec!["\r=1".into()],
            ..Row::default()
        };
        let text = String::from_utf8(to_csv(&[row]).unwrap()).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[1], "'=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(&rec[2], "'+1");
        assert_eq!(&rec[3], "'-2");
        assert_eq!(&rec[6], "a=b");
        assert_eq!(&rec[9], "'@SUM(A1)");
        assert_eq!(&rec[10], "'\tx");
        assert_eq!(&rec[11], "'\r=1");
        assert_eq!(
            file_name("../../x", "t"),
            "aws-______x-account-metadata-report-t.csv"
        );
    }

    #[test]
    fn tags() {
        let tags: BTreeMap<String, String> = [("environment", "prod"), ("AideId", "A-1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(TagKeys(vec!["Environment".into()]).lookup(&tags), "prod");
        assert_eq!(
            TagKeys(vec!["Aide_ID".into(), "AideId".into()]).lookup(&tags),
            "A-1"
        );
        assert_eq!(TagKeys(vec!["Owner".into()]).lookup(&tags), "");
    }
}
