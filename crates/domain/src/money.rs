//! Money per program and fiscal year. Whole yen as integers, always.

use serde::{Deserialize, Serialize};

use crate::fiscal::FiscalYear;

/// 財源内訳: where the money comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FundingSources {
    /// 国庫支出金
    pub national: i64,
    /// 府県支出金
    pub prefectural: i64,
    /// 地方債
    pub bonds: i64,
    /// その他特定財源
    pub other: i64,
    /// 一般財源
    pub general: i64,
}

impl FundingSources {
    pub fn total(&self) -> i64 {
        self.national + self.prefectural + self.bonds + self.other + self.general
    }
}

/// One program's money for one fiscal year. Key: (program_code, fy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramMoney {
    pub program_code: String,
    pub fy: FiscalYear,
    /// 当初予算額
    pub budget_initial: i64,
    /// 最終予算額 (after supplementary budgets); None = same as initial.
    pub budget_revised: Option<i64>,
    /// 決算額; None until the accounts are closed.
    pub settled: Option<i64>,
    /// Funding of the settled amount if settled, else of the budget.
    #[serde(default)]
    pub funding: FundingSources,
    /// 人工: full-time equivalents of staff working on the program.
    #[serde(default)]
    pub staff_fte: f64,
    /// Yearly cost of one FTE in yen (set by the finance division).
    #[serde(default)]
    pub staff_unit_cost: i64,
    /// Quantity of the main output (for the unit cost), e.g. 受講者数.
    pub output_quantity: Option<f64>,
}

impl ProgramMoney {
    /// The revision of these figures: a digest of every field (FNV-1a over
    /// its JSON, 53 bits so it survives a JSON number). A form or API client
    /// sends back the revision it was shown; if the stored figures differ,
    /// someone else saved in between and the save is refused. 0 = no record.
    pub fn revision(&self) -> i64 {
        let text = serde_json::to_string(self).unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        // Never 0 (which means "no record") and within JSON's safe integers.
        ((h & ((1 << 53) - 1)) | 1) as i64
    }

    /// The budget in force: the revised amount if there is one.
    pub fn budget(&self) -> i64 {
        self.budget_revised.unwrap_or(self.budget_initial)
    }

    /// Direct cost: the settled amount once known, else the budget.
    pub fn direct_cost(&self) -> i64 {
        self.settled.unwrap_or_else(|| self.budget())
    }

    /// 人件費 = 人工 × 単価, rounded to the yen.
    pub fn staff_cost(&self) -> i64 {
        (self.staff_fte * self.staff_unit_cost as f64).round() as i64
    }

    /// フルコスト = direct cost + staff cost.
    pub fn full_cost(&self) -> i64 {
        self.direct_cost() + self.staff_cost()
    }

    /// 単位当たりコスト = full cost / output; None without a positive output.
    pub fn unit_cost(&self) -> Option<f64> {
        self.output_quantity
            .filter(|q| *q > 0.0)
            .map(|q| self.full_cost() as f64 / q)
    }
}

/// Yen shown in 千円 as Japanese budget documents do (rounded half away from zero).
pub fn to_sen_yen(yen: i64) -> i64 {
    let q = yen / 1000;
    let r = yen % 1000;
    if r.abs() >= 500 { q + yen.signum() } else { q }
}

/// 1,234,567 with thousands separators; negatives as △ as in budget tables.
pub fn format_yen(yen: i64) -> String {
    let digits = yen.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if yen < 0 { format!("△{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money() -> ProgramMoney {
        ProgramMoney {
            program_code: "P1".into(),
            fy: FiscalYear::new(2024).unwrap(),
            budget_initial: 10_000_000,
            budget_revised: Some(12_000_000),
            settled: None,
            funding: FundingSources {
                national: 5_000_000,
                general: 7_000_000,
                ..Default::default()
            },
            staff_fte: 1.5,
            staff_unit_cost: 8_000_000,
            output_quantity: Some(400.0),
        }
    }

    #[test]
    fn full_cost_uses_settlement_when_known() {
        let mut m = money();
        assert_eq!(m.budget(), 12_000_000);
        assert_eq!(m.staff_cost(), 12_000_000);
        assert_eq!(m.full_cost(), 24_000_000);
        assert_eq!(m.unit_cost(), Some(60_000.0));
        m.settled = Some(11_000_000);
        assert_eq!(m.full_cost(), 23_000_000);
        m.output_quantity = Some(0.0);
        assert_eq!(m.unit_cost(), None);
        assert_eq!(m.funding.total(), 12_000_000);
    }

    #[test]
    fn sen_yen_and_format() {
        assert_eq!(to_sen_yen(1_234_567), 1235);
        assert_eq!(to_sen_yen(1_234_499), 1234);
        assert_eq!(to_sen_yen(-1_500), -2);
        assert_eq!(format_yen(1_234_567), "1,234,567");
        assert_eq!(format_yen(-12_000), "△12,000");
        assert_eq!(format_yen(0), "0");
    }
}
