-- Reports read sums, not conversations: each conversation adds itself to the tally of its
-- quarter hour, bot and agent, and these triggers keep that true through every insert, change
-- and delete (cascades from erasure, retention, a deleted bot or team included), inside the
-- same transaction as the change. A report adds up the quarter hours of its range, folded into
-- the asker's local days (every zone's offset is a whole number of quarter hours). A subtraction
-- only ever updates a row its addition made; rows left at zero are skipped by the report.
-- A later migration that rebuilds the conversations table must create these triggers again,
-- and can refill the table with this file's backfill (after DELETE FROM report_tallies).
-- What each column counts is `Tally::count` in src/domain/report.rs; tests compare the two.
LOCK TABLE conversations IN SHARE ROW EXCLUSIVE MODE;

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
);

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

-- Adds (direction 1) or takes away (direction -1) one conversation's part.
CREATE FUNCTION report_tally(r conversations, direction INTEGER) RETURNS VOID LANGUAGE plpgsql AS $$
BEGIN
    IF direction > 0 THEN
        INSERT INTO report_tallies (team_id, bucket, bot_id, agent_id, conversations, claimed, claim_ms, answered, response_ms, resolved, resolution_ms, abandoned, unanswered, waiting, rated, satisfied, star_ratings, star_sum, bot_only)
        SELECT r.team_id,
               CASE WHEN r.escalated_at IS NOT NULL THEN r.escalated_at - r.escalated_at % 900000 ELSE r.created_at - r.created_at % 900000 END,
               r.bot_id,
               CASE WHEN r.escalated_at IS NOT NULL THEN COALESCE(r.assignee_id, '') ELSE '' END,
               CASE WHEN r.escalated_at IS NOT NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.claimed_at IS NOT NULL THEN r.claimed_at - r.escalated_at ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.first_response_at IS NOT NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.first_response_at IS NOT NULL THEN r.first_response_at - r.escalated_at ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.resolved_at IS NOT NULL THEN r.resolved_at - r.escalated_at ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.first_response_at IS NULL AND r.claimed_at IS NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.first_response_at IS NULL AND r.claimed_at IS NOT NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'pending' THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND COALESCE(r.rating_score, 0) >= 4 THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL AND COALESCE(r.rating_scale, '') = 'stars' THEN 1 ELSE 0 END,
               CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL AND COALESCE(r.rating_scale, '') = 'stars' THEN r.rating_score ELSE 0 END,
               CASE WHEN r.escalated_at IS NULL THEN 1 ELSE 0 END
        ON CONFLICT (team_id, bucket, bot_id, agent_id) DO UPDATE SET
            conversations = report_tallies.conversations + EXCLUDED.conversations,
            claimed = report_tallies.claimed + EXCLUDED.claimed,
            claim_ms = report_tallies.claim_ms + EXCLUDED.claim_ms,
            answered = report_tallies.answered + EXCLUDED.answered,
            response_ms = report_tallies.response_ms + EXCLUDED.response_ms,
            resolved = report_tallies.resolved + EXCLUDED.resolved,
            resolution_ms = report_tallies.resolution_ms + EXCLUDED.resolution_ms,
            abandoned = report_tallies.abandoned + EXCLUDED.abandoned,
            unanswered = report_tallies.unanswered + EXCLUDED.unanswered,
            waiting = report_tallies.waiting + EXCLUDED.waiting,
            rated = report_tallies.rated + EXCLUDED.rated,
            satisfied = report_tallies.satisfied + EXCLUDED.satisfied,
            star_ratings = report_tallies.star_ratings + EXCLUDED.star_ratings,
            star_sum = report_tallies.star_sum + EXCLUDED.star_sum,
            bot_only = report_tallies.bot_only + EXCLUDED.bot_only;
    ELSE
        UPDATE report_tallies SET
            conversations = conversations - (CASE WHEN r.escalated_at IS NOT NULL THEN 1 ELSE 0 END),
            claimed = claimed - (CASE WHEN r.escalated_at IS NOT NULL AND r.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
            claim_ms = claim_ms - (CASE WHEN r.escalated_at IS NOT NULL AND r.claimed_at IS NOT NULL THEN r.claimed_at - r.escalated_at ELSE 0 END),
            answered = answered - (CASE WHEN r.escalated_at IS NOT NULL AND r.first_response_at IS NOT NULL THEN 1 ELSE 0 END),
            response_ms = response_ms - (CASE WHEN r.escalated_at IS NOT NULL AND r.first_response_at IS NOT NULL THEN r.first_response_at - r.escalated_at ELSE 0 END),
            resolved = resolved - (CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' THEN 1 ELSE 0 END),
            resolution_ms = resolution_ms - (CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.resolved_at IS NOT NULL THEN r.resolved_at - r.escalated_at ELSE 0 END),
            abandoned = abandoned - (CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.first_response_at IS NULL AND r.claimed_at IS NULL THEN 1 ELSE 0 END),
            unanswered = unanswered - (CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'resolved' AND r.first_response_at IS NULL AND r.claimed_at IS NOT NULL THEN 1 ELSE 0 END),
            waiting = waiting - (CASE WHEN r.escalated_at IS NOT NULL AND r.state = 'pending' THEN 1 ELSE 0 END),
            rated = rated - (CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL THEN 1 ELSE 0 END),
            satisfied = satisfied - (CASE WHEN r.escalated_at IS NOT NULL AND COALESCE(r.rating_score, 0) >= 4 THEN 1 ELSE 0 END),
            star_ratings = star_ratings - (CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL AND COALESCE(r.rating_scale, '') = 'stars' THEN 1 ELSE 0 END),
            star_sum = star_sum - (CASE WHEN r.escalated_at IS NOT NULL AND r.rating_score IS NOT NULL AND COALESCE(r.rating_scale, '') = 'stars' THEN r.rating_score ELSE 0 END),
            bot_only = bot_only - (CASE WHEN r.escalated_at IS NULL THEN 1 ELSE 0 END)
        WHERE team_id = r.team_id AND bucket = (CASE WHEN r.escalated_at IS NOT NULL THEN r.escalated_at - r.escalated_at % 900000 ELSE r.created_at - r.created_at % 900000 END) AND bot_id = r.bot_id AND agent_id = CASE WHEN r.escalated_at IS NOT NULL THEN COALESCE(r.assignee_id, '') ELSE '' END;
    END IF;
END
$$;

CREATE FUNCTION conversations_tally() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_tally(NEW, 1);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM report_tally(OLD, -1);
    -- The two rows are locked in a fixed order (whichever key sorts first), so two chats moving
    -- in opposite directions (a transfer each way) may queue behind each other but never
    -- deadlock. Writes that change several chats lock them all first (see the store).
    ELSIF (OLD.team_id, OLD.bot_id, CASE WHEN OLD.escalated_at IS NOT NULL THEN OLD.escalated_at - OLD.escalated_at % 900000 ELSE OLD.created_at - OLD.created_at % 900000 END, CASE WHEN OLD.escalated_at IS NOT NULL THEN COALESCE(OLD.assignee_id, '') ELSE '' END)
        <= (NEW.team_id, NEW.bot_id, CASE WHEN NEW.escalated_at IS NOT NULL THEN NEW.escalated_at - NEW.escalated_at % 900000 ELSE NEW.created_at - NEW.created_at % 900000 END, CASE WHEN NEW.escalated_at IS NOT NULL THEN COALESCE(NEW.assignee_id, '') ELSE '' END) THEN
        PERFORM report_tally(OLD, -1);
        PERFORM report_tally(NEW, 1);
    ELSE
        PERFORM report_tally(NEW, 1);
        PERFORM report_tally(OLD, -1);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER conversations_tally_change AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION conversations_tally();
CREATE TRIGGER conversations_tally_update AFTER UPDATE ON conversations
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.bot_id IS DISTINCT FROM NEW.bot_id OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id OR OLD.state IS DISTINCT FROM NEW.state OR OLD.escalated_at IS DISTINCT FROM NEW.escalated_at OR OLD.created_at IS DISTINCT FROM NEW.created_at OR OLD.claimed_at IS DISTINCT FROM NEW.claimed_at OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at OR OLD.rating_score IS DISTINCT FROM NEW.rating_score OR OLD.rating_scale IS DISTINCT FROM NEW.rating_scale)
    EXECUTE FUNCTION conversations_tally();

CREATE FUNCTION report_tallies_forget() RETURNS TRIGGER LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'bots' THEN
        DELETE FROM report_tallies WHERE team_id = OLD.team_id AND bot_id = OLD.id;
    ELSE
        DELETE FROM report_tallies WHERE team_id = OLD.id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bots_tally_delete AFTER DELETE ON bots FOR EACH ROW EXECUTE FUNCTION report_tallies_forget();
CREATE TRIGGER teams_tally_delete AFTER DELETE ON teams FOR EACH ROW EXECUTE FUNCTION report_tallies_forget();


-- Reports no longer read conversations: the wide index that covered a report's columns (and
-- was rewritten with every claim and state change) gives way to one for the CSV's range, and
-- bot-only chats are counted from the tallies.
DROP INDEX conversations_reports;
DROP INDEX conversations_bot_only;
CREATE INDEX conversations_escalated ON conversations (team_id, escalated_at) WHERE escalated_at IS NOT NULL;
