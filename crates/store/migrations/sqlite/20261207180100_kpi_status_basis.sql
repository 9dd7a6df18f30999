-- How a monthly or quarterly KPI's values are judged against its yearly
-- target: ytd_sum, last12_sum, last12_mean or latest. NULL = the default of
-- the KPI's frequency (the mean of the latest twelve months for monthly and
-- quarterly KPIs, the latest value for yearly ones).
ALTER TABLE kpis ADD COLUMN status_basis TEXT;
