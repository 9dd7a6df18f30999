//! The formats and print setup shared by the XLSX reports.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Worksheet};

/// Excel's paper size code for A4.
pub(crate) const A4: u8 = 9;

/// Yen as whole numbers with separators and 円; negatives as △ (budget tables).
pub(crate) const YEN: &str = "#,##0\"円\";\"△\"#,##0\"円\"";
/// Yen with two decimals (unit costs).
pub(crate) const YEN_2: &str = "#,##0.00\"円\"";
/// A rate as a percentage with one decimal; negatives as △.
pub(crate) const PERCENT: &str = "0.0%;\"△\"0.0%";

pub(crate) struct Formats {
    pub title: Format,
    pub section: Format,
    pub label: Format,
    pub header: Format,
    pub text: Format,
    pub wrap: Format,
    pub yen: Format,
    pub yen_2: Format,
    pub number: Format,
    pub int: Format,
    pub percent: Format,
    pub total_label: Format,
    pub total_yen: Format,
    pub total_percent: Format,
    pub total_int: Format,
}

impl Formats {
    pub(crate) fn new() -> Formats {
        let cell = Format::new()
            .set_border(FormatBorder::Thin)
            .set_align(FormatAlign::VerticalCenter);
        let shade = Color::RGB(0xDDEBF7);
        let total_shade = Color::RGB(0xF2F2F2);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            section: Format::new().set_bold().set_font_size(11),
            label: cell.clone().set_bold().set_background_color(shade),
            header: cell
                .clone()
                .set_bold()
                .set_background_color(shade)
                .set_text_wrap()
                .set_align(FormatAlign::Center),
            text: cell.clone(),
            wrap: cell.clone().set_text_wrap().set_align(FormatAlign::Top),
            yen: cell.clone().set_num_format(YEN),
            yen_2: cell.clone().set_num_format(YEN_2),
            number: cell.clone().set_num_format("#,##0.##"),
            int: cell.clone().set_num_format("#,##0"),
            percent: cell.clone().set_num_format(PERCENT),
            total_label: cell.clone().set_bold().set_background_color(total_shade),
            total_yen: cell
                .clone()
                .set_bold()
                .set_background_color(total_shade)
                .set_num_format(YEN),
            total_percent: cell
                .clone()
                .set_bold()
                .set_background_color(total_shade)
                .set_num_format(PERCENT),
            total_int: cell
                .set_bold()
                .set_background_color(total_shade)
                .set_num_format("#,##0"),
        }
    }
}

/// A4, fit to one page wide (as many pages tall as needed), centred, with a
/// header naming the report and page numbers in the footer.
pub(crate) fn print_setup(ws: &mut Worksheet, header: &str, portrait: bool) {
    ws.set_paper_size(A4);
    if portrait {
        ws.set_portrait();
    } else {
        ws.set_landscape();
    }
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.5, 0.5, 0.7, 0.7, 0.3, 0.3);
    ws.set_print_center_horizontally(true);
    // In a header "&" starts a code: a literal one is written "&&".
    ws.set_header(format!("&L{}", header.replace('&', "&&")));
    ws.set_footer("&C&P / &N");
}

/// Rough row height (points) for a wrapped text in a cell `width_chars`
/// wide (East Asian characters count two), so printed text is not cut off.
pub(crate) fn wrapped_height(text: &str, width_chars: f64) -> f64 {
    let mut lines = 0.0;
    for line in text.split('\n') {
        let w = citykpi_domain::text::display_width(line) as f64;
        lines += (w / width_chars.max(1.0)).ceil().max(1.0);
    }
    (lines.max(1.0) * 15.0).min(409.0)
}

/// A workbook that only says why there is nothing to report yet (a cycle
/// not started, a budget not requested): one worksheet with the reason in
/// Japanese in A1 and in English in A2, so that a download button never
/// answers with an error page.
pub fn notice_xlsx(sheet: &str, ja: &str, en: &str) -> crate::ReportResult<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(crate::sheet_name(sheet))?;
    ws.set_column_width(0, 110)?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.write_string_with_format(0, 0, ja, &wrap)?;
    ws.write_string_with_format(1, 0, en, &wrap)?;
    Ok(book.save_to_buffer()?)
}
