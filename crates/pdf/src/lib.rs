//! citykpi's PDF reports, typeset with typst from records the caller passes
//! (no database here): the annual KPI progress report (年次KPI進捗報告書)
//! and the evaluation sheets (事務事業評価シート, one program per A4 page).
//!
//! The Japanese fonts are read from disk once ([`Fonts::load`]) and shared
//! by every compilation: typst asks for a font many times per page, and
//! re-reading a CJK font file per lookup costs seconds.
//!
//! A report is a typst template (in `templates/`) reading its data from a
//! virtual `/data.json`; charts are SVG files from `citykpi-charts` served
//! from virtual paths beside it. Every number is formatted here, in Rust, so
//! the PDF shows exactly what the CLI and the web show.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;

mod format;
mod mayor;
mod progress;
mod sheets;

pub use format::{group_digits, number, percent, yen};
pub use mayor::{MayorBrief, mayor_pdf};
pub use progress::{KpiLine, PlanSection, PolicySection, ProgressBook, kpi_progress_pdf};
pub use sheets::evaluation_sheets_pdf;

/// The environment variable naming a folder of fonts to use instead of the
/// system's Japanese fonts.
pub const FONT_DIR_ENV: &str = "CITYKPI_FONT_DIR";

/// Where the Japanese fonts are looked for when `CITYKPI_FONT_DIR` is not set
/// (Debian `fonts-noto-cjk`, then `fonts-ipaexfont-gothic`).
pub const SYSTEM_FONTS: [&str; 4] = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
];

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "日本語フォントが見つかりません（{searched}）。fonts-noto-cjk を入れるか、環境変数 {FONT_DIR_ENV} にフォントのフォルダを指定してください / no Japanese (CJK) font found in {searched}: install fonts-noto-cjk or set {FONT_DIR_ENV} to a folder of fonts"
    )]
    NoFont { searched: String },
    #[error("フォントを読めません / cannot read font {path}: {source}")]
    ReadFont {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("PDFを組版できません / typesetting failed: {0}")]
    Typeset(String),
    #[error("データを書き出せません / cannot serialise the report data: {0}")]
    Data(#[from] serde_json::Error),
}

pub type PdfResult<T> = Result<T, PdfError>;

/// The fonts every report is set in: loaded once, shared read-only.
pub struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    /// The family the reports are set in (a Japanese one).
    family: String,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("faces", &self.fonts.len())
            .field("family", &self.family)
            .finish()
    }
}

fn is_font_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("ttf" | "otf" | "ttc" | "otc")
    )
}

impl Fonts {
    /// The fonts of `CITYKPI_FONT_DIR` if set, else the system's Japanese
    /// fonts ([`SYSTEM_FONTS`]).
    pub fn load() -> PdfResult<Fonts> {
        match std::env::var_os(FONT_DIR_ENV).filter(|v| !v.is_empty()) {
            Some(dir) => Fonts::from_dir(Path::new(&dir)),
            None => Fonts::from_files(SYSTEM_FONTS.iter().map(PathBuf::from).collect()),
        }
    }

    /// The process-wide fonts, loaded on first use.
    pub fn shared() -> PdfResult<&'static Fonts> {
        static FONTS: OnceLock<Fonts> = OnceLock::new();
        if let Some(f) = FONTS.get() {
            return Ok(f);
        }
        let loaded = Fonts::load()?;
        Ok(FONTS.get_or_init(|| loaded))
    }

    /// Every font file in `dir` (not recursive).
    pub fn from_dir(dir: &Path) -> PdfResult<Fonts> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|_| PdfError::NoFont {
                searched: format!("{FONT_DIR_ENV}={}", dir.display()),
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_font_file(p))
            .collect();
        files.sort();
        let fonts = Fonts::read(&files)?;
        Fonts::from_faces(fonts, format!("{FONT_DIR_ENV}={}", dir.display()))
    }

    /// The given font files; missing ones are skipped.
    pub fn from_files(files: Vec<PathBuf>) -> PdfResult<Fonts> {
        let searched = files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let present: Vec<PathBuf> = files.into_iter().filter(|p| p.is_file()).collect();
        let fonts = Fonts::read(&present)?;
        Fonts::from_faces(fonts, searched)
    }

    fn read(files: &[PathBuf]) -> PdfResult<Vec<Font>> {
        let mut fonts = Vec::new();
        for path in files {
            let data = std::fs::read(path).map_err(|source| PdfError::ReadFont {
                path: path.clone(),
                source,
            })?;
            fonts.extend(Font::iter(Bytes::new(data)));
        }
        Ok(fonts)
    }

    fn from_faces(fonts: Vec<Font>, searched: String) -> PdfResult<Fonts> {
        let japanese = |f: &&Font| {
            let c = &f.info().coverage;
            c.contains('日' as u32) && c.contains('あ' as u32)
        };
        // A Japanese family first (Noto's collections hold JP, KR, SC, TC…).
        let family = fonts
            .iter()
            .filter(japanese)
            .map(|f| f.info().family.clone())
            .min_by_key(|name| {
                (
                    !name.contains("JP"),
                    name.contains("Mono"),
                    name.contains("Serif"),
                    name.len(),
                )
            })
            .ok_or(PdfError::NoFont { searched })?;
        let book = LazyHash::new(FontBook::from_fonts(&fonts));
        Ok(Fonts {
            book,
            fonts,
            family,
        })
    }

    /// The family the reports are set in, e.g. `Noto Sans CJK JP`.
    pub fn family(&self) -> &str {
        &self.family
    }
}

/// The id of a file of the compilation; the paths are the report code's own
/// (`/data.json`, `/charts/1.svg`), and one that typst refuses is an error,
/// not a panic.
fn file_id(path: &str) -> PdfResult<FileId> {
    let virtual_path =
        VirtualPath::new(path).map_err(|e| PdfError::Typeset(format!("{path}: {e:?}")))?;
    Ok(FileId::new(RootedPath::new(
        VirtualRoot::Project,
        virtual_path,
    )))
}

/// One compilation: the template, its data and its charts, over the shared
/// fonts.
struct ReportWorld<'a> {
    library: LazyHash<Library>,
    fonts: &'a Fonts,
    main: Source,
    files: HashMap<FileId, Bytes>,
}

impl World for ReportWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::NotFound(PathBuf::from(
                id.vpath().get_with_slash(),
            )))
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        self.files
            .get(&id)
            .cloned()
            .ok_or_else(|| FileError::NotFound(PathBuf::from(id.vpath().get_with_slash())))
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }
    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}

fn describe(diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| {
            let mut s = d.message.to_string();
            for h in &d.hints {
                s.push_str(&format!(" (hint: {})", h.v));
            }
            s
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Compiles `template` with `data` as `/data.json` and the `files` (e.g.
/// `/charts/1.svg`) to PDF bytes.
pub(crate) fn compile(
    fonts: &Fonts,
    template: &str,
    data: &serde_json::Value,
    files: Vec<(String, Vec<u8>)>,
) -> PdfResult<Vec<u8>> {
    let mut map = HashMap::new();
    map.insert(
        file_id("/data.json")?,
        Bytes::new(serde_json::to_vec(data)?),
    );
    for (path, bytes) in files {
        map.insert(file_id(&path)?, Bytes::new(bytes));
    }
    let world = ReportWorld {
        library: LazyHash::new(Library::default()),
        fonts,
        main: Source::new(file_id("/main.typ")?, template.to_string()),
        files: map,
    };
    let document = typst::compile::<PagedDocument>(&world)
        .output
        .map_err(|e| PdfError::Typeset(describe(e.as_slice())))?;
    typst_pdf::pdf(&document, &typst_pdf::PdfOptions::default())
        .map_err(|e| PdfError::Typeset(describe(e.as_slice())))
}

/// The page setup and fonts every report shares, prepended to its template.
pub(crate) fn preamble(fonts: &Fonts) -> String {
    format!(
        "#set text(font: \"{}\", lang: \"ja\", region: \"JP\", cjk-latin-spacing: none, size: 9pt)\n",
        fonts.family().replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// A chart from `citykpi-charts` made ready for typst: its font list names
/// the report's Japanese family (the web's list names fonts of the reader's
/// machine).
pub(crate) fn chart_svg(fonts: &Fonts, svg: &str) -> Vec<u8> {
    svg.replace(
        citykpi_charts::FONT_FAMILY,
        &format!("'{}', sans-serif", fonts.family()),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_fonts_are_named() {
        let e = Fonts::from_files(vec![PathBuf::from("/nowhere/font.ttc")]).unwrap_err();
        assert!(e.to_string().contains("/nowhere/font.ttc"), "{e}");
        assert!(e.to_string().contains(FONT_DIR_ENV), "{e}");
        let e = Fonts::from_dir(Path::new("/nowhere")).unwrap_err();
        assert!(e.to_string().contains("/nowhere"), "{e}");
    }
}
