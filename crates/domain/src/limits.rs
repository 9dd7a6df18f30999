//! How long a text may be. Every way in (web forms, the API, file imports)
//! checks these before anything is stored, so a record never holds a text
//! that a spreadsheet cell, a page or a report cannot carry (an XLSX cell
//! holds 32,767 characters; a name is read at a glance).

/// Names, titles, codes, logins, e-mail addresses, units.
pub const NAME_MAX: usize = 200;
/// Notes, descriptions and every other free text.
pub const TEXT_MAX: usize = 10_000;

/// Is `field` a short one (a name, title, code …)? Judged by its last
/// segment (`funding.note` → `note`, `kpis.name_ja` → `name_ja`).
fn is_short(field: &str) -> bool {
    let f = field
        .rsplit(['.', ':', '/'])
        .next()
        .unwrap_or(field)
        .to_ascii_lowercase();
    f.contains("name")
        || f == "title"
        || f == "title_en"
        || f == "code"
        || f.ends_with("_code")
        || f == "login"
        || f == "email"
        || f == "unit"
}

/// The most characters `field` may hold.
pub fn max_chars(field: &str) -> usize {
    if is_short(field) { NAME_MAX } else { TEXT_MAX }
}

/// A text over its field's limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{max}文字までです（{len}文字あります） / at most {max} characters ({len} given)")]
pub struct TooLong {
    pub max: usize,
    pub len: usize,
}

impl TooLong {
    pub fn ja(&self) -> String {
        format!("{}文字までです（{}文字あります）", self.max, self.len)
    }
    pub fn en(&self) -> String {
        format!("at most {} characters ({} given)", self.max, self.len)
    }
}

/// Checks `value` against `field`'s limit (characters, not bytes).
pub fn check(field: &str, value: &str) -> Result<(), TooLong> {
    // Most texts are shorter than the shortest limit: no need to look at
    // the field's name (a million-row import checks every cell).
    if value.len() <= NAME_MAX {
        return Ok(());
    }
    check_max(max_chars(field), value)
}

/// Checks `value` against `max` characters.
pub fn check_max(max: usize, value: &str) -> Result<(), TooLong> {
    // A UTF-8 character is at least one byte: short texts need no count.
    if value.len() <= max {
        return Ok(());
    }
    let len = value.chars().count();
    if len <= max {
        Ok(())
    } else {
        Err(TooLong { max, len })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts() {
        assert_eq!(max_chars("name_ja"), NAME_MAX);
        assert_eq!(max_chars("kpis.name_en"), NAME_MAX);
        assert_eq!(max_chars("department_code"), NAME_MAX);
        assert_eq!(max_chars("note"), TEXT_MAX);
        assert_eq!(max_chars("funding.note"), TEXT_MAX);
        assert!(check("note", &"あ".repeat(TEXT_MAX)).is_ok());
        assert_eq!(
            check("note", &"あ".repeat(TEXT_MAX + 1)),
            Err(TooLong {
                max: TEXT_MAX,
                len: TEXT_MAX + 1
            })
        );
        let e = check("name_ja", &"x".repeat(201)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "200文字までです（201文字あります） / at most 200 characters (201 given)"
        );
    }
}
