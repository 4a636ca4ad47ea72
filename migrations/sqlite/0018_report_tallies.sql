-- Reports read sums, not conversations: each conversation adds itself to the tally of its
-- quarter hour, bot and agent, and these triggers keep that true through every insert, change
-- and delete (cascades from erasure, retention, a deleted bot or team included), inside the
-- same transaction as the change. A report adds up the quarter hours of its range, folded into
-- the asker's local days (every zone's offset is a whole number of quarter hours). A subtraction
-- only ever updates a row its addition made; rows left at zero are skipped by the report.
-- A later migration that rebuilds the conversations table must create these triggers again,
-- and can refill the table with this file's backfill (after DELETE FROM report_tallies).
-- What each column counts is `Tally::count` in src/domain/report.rs; tests compare the two.
CREATE TABLE report_tallies (
    team_id TEXT NOT NULL,
    -- The quarter hour (ms) the chat reached the team in, or began in if the bot kept it.
    bucket BIGINT NOT NULL,
    bot_id TEXT NOT NULL,
    -- The agent the chat is with (or ended with); '' for none.
    agent_id TEXT NOT NULL,
    conversations BIGINT NOT NULL DEFAULT 0,
    claimed BIGINT NOT NULL DEFAULT 0,
    claim_ms BIGINT NOT NULL DEFAULT 0,
    answered BIGINT NOT NULL DEFAULT 0,
    response_ms BIGINT NOT NULL DEFAULT 0,
    resolved BIGINT NOT NULL DEFAULT 0,
    resolution_ms BIGINT NOT NULL DEFAULT 0,
    abandoned BIGINT NOT NULL DEFAULT 0,
    unanswered BIGINT NOT NULL DEFAULT 0,
    waiting BIGINT NOT NULL DEFAULT 0,
    rated BIGINT NOT NULL DEFAULT 0,
    satisfied BIGINT NOT NULL DEFAULT 0,
    star_ratings BIGINT NOT NULL DEFAULT 0,
    star_sum BIGINT NOT NULL DEFAULT 0,
    bot_only BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, bucket, bot_id, agent_id)
) WITHOUT ROWID;

INSERT INTO report_tallies (team_id, bucket, bot_id, agent_id, conversations, claimed, claim_ms, answered, response_ms, resolved, resolution_ms, abandoned, unanswered, waiting, rated, satisfied, star_ratings, star_sum, bot_only)
SELECT c.team_id AS team_id,
       CASE WHEN c.escalated_at IS NOT NULL THEN c.escalated_at - c.escalated_at % 900000 ELSE c.created_at - c.created_at % 900000 END AS bucket,
       c.bot_id AS bot_id,
       CASE WHEN c.escalated_at IS NOT NULL THEN COALESCE(c.assignee_id, '') ELSE '' END AS agent_id,
       SUM(CASE WHEN c.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.claimed_at IS NOT NULL THEN c.claimed_at - c.escalated_at ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.first_response_at IS NOT NULL THEN c.first_response_at - c.escalated_at ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.state = 'resolved' THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.state = 'resolved' AND c.resolved_at IS NOT NULL THEN c.resolved_at - c.escalated_at ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.state = 'resolved' AND c.first_response_at IS NULL AND c.claimed_at IS NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.state = 'resolved' AND c.first_response_at IS NULL AND c.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.state = 'pending' THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.rating_score IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND COALESCE(c.rating_score, 0) >= 4 THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.rating_score IS NOT NULL AND COALESCE(c.rating_scale, '') = 'stars' THEN 1 ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NOT NULL AND c.rating_score IS NOT NULL AND COALESCE(c.rating_scale, '') = 'stars' THEN c.rating_score ELSE 0 END),
       SUM(CASE WHEN c.escalated_at IS NULL THEN 1 ELSE 0 END)
FROM conversations c
GROUP BY 1, 2, 3, 4;

CREATE TRIGGER conversations_tally_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO report_tallies (team_id, bucket, bot_id, agent_id, conversations, claimed, claim_ms, answered, response_ms, resolved, resolution_ms, abandoned, unanswered, waiting, rated, satisfied, star_ratings, star_sum, bot_only)
    SELECT NEW.team_id,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN NEW.escalated_at - NEW.escalated_at % 900000 ELSE NEW.created_at - NEW.created_at % 900000 END,
           NEW.bot_id,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN COALESCE(NEW.assignee_id, '') ELSE '' END,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.claimed_at IS NOT NULL THEN NEW.claimed_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.first_response_at IS NOT NULL THEN NEW.first_response_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.resolved_at IS NOT NULL THEN NEW.resolved_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.first_response_at IS NULL AND NEW.claimed_at IS NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.first_response_at IS NULL AND NEW.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'pending' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND COALESCE(NEW.rating_score, 0) >= 4 THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL AND COALESCE(NEW.rating_scale, '') = 'stars' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL AND COALESCE(NEW.rating_scale, '') = 'stars' THEN NEW.rating_score ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NULL THEN 1 ELSE 0 END
    WHERE TRUE
    ON CONFLICT (team_id, bucket, bot_id, agent_id) DO UPDATE SET
        conversations = report_tallies.conversations + excluded.conversations,
        claimed = report_tallies.claimed + excluded.claimed,
        claim_ms = report_tallies.claim_ms + excluded.claim_ms,
        answered = report_tallies.answered + excluded.answered,
        response_ms = report_tallies.response_ms + excluded.response_ms,
        resolved = report_tallies.resolved + excluded.resolved,
        resolution_ms = report_tallies.resolution_ms + excluded.resolution_ms,
        abandoned = report_tallies.abandoned + excluded.abandoned,
        unanswered = report_tallies.unanswered + excluded.unanswered,
        waiting = report_tallies.waiting + excluded.waiting,
        rated = report_tallies.rated + excluded.rated,
        satisfied = report_tallies.satisfied + excluded.satisfied,
        star_ratings = report_tallies.star_ratings + excluded.star_ratings,
        star_sum = report_tallies.star_sum + excluded.star_sum,
        bot_only = report_tallies.bot_only + excluded.bot_only;
END;

CREATE TRIGGER conversations_tally_update AFTER UPDATE ON conversations
WHEN OLD.team_id IS NOT NEW.team_id OR OLD.bot_id IS NOT NEW.bot_id OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.state IS NOT NEW.state OR OLD.escalated_at IS NOT NEW.escalated_at OR OLD.created_at IS NOT NEW.created_at OR OLD.claimed_at IS NOT NEW.claimed_at OR OLD.first_response_at IS NOT NEW.first_response_at OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.rating_score IS NOT NEW.rating_score OR OLD.rating_scale IS NOT NEW.rating_scale
BEGIN
    UPDATE report_tallies SET
        conversations = conversations - (CASE WHEN OLD.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
        claimed = claimed - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
        claim_ms = claim_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.claimed_at IS NOT NULL THEN OLD.claimed_at - OLD.escalated_at ELSE 0 END),
        answered = answered - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
        response_ms = response_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.first_response_at IS NOT NULL THEN OLD.first_response_at - OLD.escalated_at ELSE 0 END),
        resolved = resolved - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' THEN 1 ELSE 0 END),
        resolution_ms = resolution_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.resolved_at IS NOT NULL THEN OLD.resolved_at - OLD.escalated_at ELSE 0 END),
        abandoned = abandoned - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.first_response_at IS NULL AND OLD.claimed_at IS NULL THEN 1 ELSE 0 END),
        unanswered = unanswered - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.first_response_at IS NULL AND OLD.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
        waiting = waiting - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'pending' THEN 1 ELSE 0 END),
        rated = rated - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL THEN 1 ELSE 0 END),
        satisfied = satisfied - (CASE WHEN OLD.escalated_at IS NOT NULL AND COALESCE(OLD.rating_score, 0) >= 4 THEN 1 ELSE 0 END),
        star_ratings = star_ratings - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL AND COALESCE(OLD.rating_scale, '') = 'stars' THEN 1 ELSE 0 END),
        star_sum = star_sum - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL AND COALESCE(OLD.rating_scale, '') = 'stars' THEN OLD.rating_score ELSE 0 END),
        bot_only = bot_only - (CASE WHEN OLD.escalated_at IS NULL THEN 1 ELSE 0 END)
    WHERE team_id = OLD.team_id AND bucket = (CASE WHEN OLD.escalated_at IS NOT NULL THEN OLD.escalated_at - OLD.escalated_at % 900000 ELSE OLD.created_at - OLD.created_at % 900000 END) AND bot_id = OLD.bot_id AND agent_id = CASE WHEN OLD.escalated_at IS NOT NULL THEN COALESCE(OLD.assignee_id, '') ELSE '' END;
    INSERT INTO report_tallies (team_id, bucket, bot_id, agent_id, conversations, claimed, claim_ms, answered, response_ms, resolved, resolution_ms, abandoned, unanswered, waiting, rated, satisfied, star_ratings, star_sum, bot_only)
    SELECT NEW.team_id,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN NEW.escalated_at - NEW.escalated_at % 900000 ELSE NEW.created_at - NEW.created_at % 900000 END,
           NEW.bot_id,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN COALESCE(NEW.assignee_id, '') ELSE '' END,
           CASE WHEN NEW.escalated_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.claimed_at IS NOT NULL THEN NEW.claimed_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.first_response_at IS NOT NULL THEN NEW.first_response_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.resolved_at IS NOT NULL THEN NEW.resolved_at - NEW.escalated_at ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.first_response_at IS NULL AND NEW.claimed_at IS NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'resolved' AND NEW.first_response_at IS NULL AND NEW.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.state = 'pending' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND COALESCE(NEW.rating_score, 0) >= 4 THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL AND COALESCE(NEW.rating_scale, '') = 'stars' THEN 1 ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NOT NULL AND NEW.rating_score IS NOT NULL AND COALESCE(NEW.rating_scale, '') = 'stars' THEN NEW.rating_score ELSE 0 END,
           CASE WHEN NEW.escalated_at IS NULL THEN 1 ELSE 0 END
    WHERE TRUE
    ON CONFLICT (team_id, bucket, bot_id, agent_id) DO UPDATE SET
        conversations = report_tallies.conversations + excluded.conversations,
        claimed = report_tallies.claimed + excluded.claimed,
        claim_ms = report_tallies.claim_ms + excluded.claim_ms,
        answered = report_tallies.answered + excluded.answered,
        response_ms = report_tallies.response_ms + excluded.response_ms,
        resolved = report_tallies.resolved + excluded.resolved,
        resolution_ms = report_tallies.resolution_ms + excluded.resolution_ms,
        abandoned = report_tallies.abandoned + excluded.abandoned,
        unanswered = report_tallies.unanswered + excluded.unanswered,
        waiting = report_tallies.waiting + excluded.waiting,
        rated = report_tallies.rated + excluded.rated,
        satisfied = report_tallies.satisfied + excluded.satisfied,
        star_ratings = report_tallies.star_ratings + excluded.star_ratings,
        star_sum = report_tallies.star_sum + excluded.star_sum,
        bot_only = report_tallies.bot_only + excluded.bot_only;
END;

CREATE TRIGGER conversations_tally_delete AFTER DELETE ON conversations BEGIN
    UPDATE report_tallies SET
        conversations = conversations - (CASE WHEN OLD.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
        claimed = claimed - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
        claim_ms = claim_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.claimed_at IS NOT NULL THEN OLD.claimed_at - OLD.escalated_at ELSE 0 END),
        answered = answered - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
        response_ms = response_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.first_response_at IS NOT NULL THEN OLD.first_response_at - OLD.escalated_at ELSE 0 END),
        resolved = resolved - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' THEN 1 ELSE 0 END),
        resolution_ms = resolution_ms - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.resolved_at IS NOT NULL THEN OLD.resolved_at - OLD.escalated_at ELSE 0 END),
        abandoned = abandoned - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.first_response_at IS NULL AND OLD.claimed_at IS NULL THEN 1 ELSE 0 END),
        unanswered = unanswered - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'resolved' AND OLD.first_response_at IS NULL AND OLD.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
        waiting = waiting - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.state = 'pending' THEN 1 ELSE 0 END),
        rated = rated - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL THEN 1 ELSE 0 END),
        satisfied = satisfied - (CASE WHEN OLD.escalated_at IS NOT NULL AND COALESCE(OLD.rating_score, 0) >= 4 THEN 1 ELSE 0 END),
        star_ratings = star_ratings - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL AND COALESCE(OLD.rating_scale, '') = 'stars' THEN 1 ELSE 0 END),
        star_sum = star_sum - (CASE WHEN OLD.escalated_at IS NOT NULL AND OLD.rating_score IS NOT NULL AND COALESCE(OLD.rating_scale, '') = 'stars' THEN OLD.rating_score ELSE 0 END),
        bot_only = bot_only - (CASE WHEN OLD.escalated_at IS NULL THEN 1 ELSE 0 END)
    WHERE team_id = OLD.team_id AND bucket = (CASE WHEN OLD.escalated_at IS NOT NULL THEN OLD.escalated_at - OLD.escalated_at % 900000 ELSE OLD.created_at - OLD.created_at % 900000 END) AND bot_id = OLD.bot_id AND agent_id = CASE WHEN OLD.escalated_at IS NOT NULL THEN COALESCE(OLD.assignee_id, '') ELSE '' END;
END;

CREATE TRIGGER bots_tally_delete AFTER DELETE ON bots BEGIN
    DELETE FROM report_tallies WHERE team_id = OLD.team_id AND bot_id = OLD.id;
END;

CREATE TRIGGER teams_tally_delete AFTER DELETE ON teams BEGIN
    DELETE FROM report_tallies WHERE team_id = OLD.id;
END;

-- Reports no longer read conversations: the wide index that covered a report's columns (and
-- was rewritten with every claim and state change) gives way to one for the CSV's range, and
-- bot-only chats are counted from the tallies.
DROP INDEX conversations_reports;
DROP INDEX conversations_bot_only;
CREATE INDEX conversations_escalated ON conversations (team_id, escalated_at) WHERE escalated_at IS NOT NULL;
