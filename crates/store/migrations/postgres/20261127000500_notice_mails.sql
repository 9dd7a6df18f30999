-- Due-work notices mailed through the city's SMTP server: at most one mail
-- per user, cycle year and stage. What was sent, to which address, when and
-- by whom (the CLI's user or the strategy office's login); the audit log has
-- a row for every send.
CREATE TABLE notice_mails (
    fy       BIGINT NOT NULL,
    stage    TEXT COLLATE "C" NOT NULL,
    login    TEXT COLLATE "C" NOT NULL,
    email    TEXT NOT NULL,
    sent_at  TEXT NOT NULL,
    sent_by  TEXT NOT NULL,
    PRIMARY KEY (fy, stage, login)
);
