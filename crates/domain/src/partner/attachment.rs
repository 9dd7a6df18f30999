//! Files attached to a proposal: what is accepted (size, kind checked by the
//! file's first bytes, not only its name) and the name it is stored under.
//! They are kept in the database and only ever served as a download.

use serde::{Deserialize, Serialize};

use super::{Problem, Problems};

/// Largest attachment accepted.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Attachments per proposal.
pub const MAX_PER_PROPOSAL: usize = 10;

/// The kinds of file a proposal may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Png,
    Jpeg,
    /// Office Open XML (xlsx, docx, pptx): a ZIP container.
    Office,
    /// Plain text or CSV in UTF-8.
    Text,
}

impl FileKind {
    /// The media type the file is stored with (served always as a download).
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Office => "application/octet-stream",
            FileKind::Text => "text/plain; charset=utf-8",
        }
    }
}

/// A checked attachment, ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFile {
    pub file_name: String,
    pub kind: FileKind,
}

fn kind_of(name: &str, bytes: &[u8]) -> Option<FileKind> {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_bytes = if bytes.starts_with(b"%PDF-") {
        Some(FileKind::Pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(FileKind::Png)
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        Some(FileKind::Jpeg)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(FileKind::Office)
    } else if std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0) {
        Some(FileKind::Text)
    } else {
        None
    };
    // The name's extension must agree with the content, so that a renamed
    // executable or an HTML page posing as text is refused.
    let expected: &[&str] = match by_bytes? {
        FileKind::Pdf => &["pdf"],
        FileKind::Png => &["png"],
        FileKind::Jpeg => &["jpg", "jpeg"],
        FileKind::Office => &["xlsx", "docx", "pptx"],
        FileKind::Text => &["txt", "csv"],
    };
    expected.contains(&ext.as_str()).then_some(by_bytes?)
}

/// The stored name: the base name only, no path, no control characters, at
/// most 120 characters, never empty.
pub fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = crate::text::normalize(base)
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '*' | '?' | '|'))
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim().to_string();
    let mut out: String = cleaned
        .chars()
        .rev()
        .take(120)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if out.is_empty() {
        out = "attachment".into();
    }
    out
}

/// Checks one file for a proposal that already has `existing` attachments.
pub fn check(raw_name: &str, bytes: &[u8], existing: usize) -> Result<CheckedFile, Problems> {
    let mut problems = Vec::new();
    if bytes.is_empty() {
        problems.push(Problem::new(
            "file",
            "ファイルが空です",
            "the file is empty",
        ));
    }
    if bytes.len() > MAX_BYTES {
        problems.push(Problem::new(
            "file",
            format!("ファイルは{}MBまでです", MAX_BYTES / 1024 / 1024),
            format!("files may be at most {} MB", MAX_BYTES / 1024 / 1024),
        ));
    }
    if existing >= MAX_PER_PROPOSAL {
        problems.push(Problem::new(
            "file",
            format!("添付は{MAX_PER_PROPOSAL}件までです"),
            format!("at most {MAX_PER_PROPOSAL} attachments per proposal"),
        ));
    }
    let file_name = safe_name(raw_name);
    let kind = kind_of(&file_name, bytes);
    if kind.is_none() && !bytes.is_empty() {
        problems.push(Problem::new(
            "file",
            "PDF・PNG・JPEG・Office文書（xlsx/docx/pptx）・テキスト（txt/csv）だけを、内容に合う拡張子で添付できます",
            "only PDF, PNG, JPEG, Office (xlsx/docx/pptx) and text (txt/csv) files whose extension matches their content",
        ));
    }
    match (kind, problems.is_empty()) {
        (Some(kind), true) => Ok(CheckedFile { file_name, kind }),
        _ => Err(Problems(problems)),
    }
}

/// Stored attachment metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub id: i64,
    pub proposal_id: i64,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub uploaded_at: String,
    pub uploaded_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_content_and_name() {
        assert_eq!(
            check("提案書.pdf", b"%PDF-1.7 ...", 0).unwrap().kind,
            FileKind::Pdf
        );
        assert_eq!(
            check("a.CSV", "年度,値\n2025,1\n".as_bytes(), 0)
                .unwrap()
                .kind,
            FileKind::Text
        );
        assert_eq!(
            check("x.xlsx", b"PK\x03\x04rest", 0).unwrap().kind,
            FileKind::Office
        );
        for (name, bytes) in [
            ("evil.pdf", &b"MZ\x90\x00"[..]),
            ("page.html", b"<script>alert(1)</script>"),
            ("fake.png", b"%PDF-1.4"),
            ("run.exe", b"PK\x03\x04"),
        ] {
            assert!(check(name, bytes, 0).unwrap_err().has("file"), "{name}");
        }
        assert!(check("a.txt", b"", 0).is_err());
        assert!(check("a.txt", &vec![b'a'; MAX_BYTES + 1], 0).is_err());
        assert!(check("a.txt", b"ok", MAX_PER_PROPOSAL).is_err());
    }

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\Users\\a\\提案書.pdf"), "提案書.pdf");
        assert_eq!(safe_name("a\"b<c>\u{7}.txt"), "abc.txt");
        assert_eq!(safe_name(".."), "attachment");
        assert_eq!(
            safe_name(&format!("{}.pdf", "x".repeat(300)))
                .chars()
                .count(),
            120
        );
        assert!(safe_name(&format!("{}.pdf", "x".repeat(300))).ends_with(".pdf"));
    }
}
