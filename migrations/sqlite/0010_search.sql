-- Search over what people wrote (not system lines): an FTS5 index of messages' text, kept by
-- triggers. It reads its text from `messages` by rowid (an external-content index), so it holds
-- only the index itself. The same for visitors' names and emails, below.
CREATE VIRTUAL TABLE message_search USING fts5(text, content = 'messages', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO message_search (rowid, text) SELECT rowid, text FROM messages WHERE author_kind <> 'system';
CREATE TRIGGER message_search_insert AFTER INSERT ON messages WHEN new.author_kind <> 'system' BEGIN
    INSERT INTO message_search (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER message_search_delete AFTER DELETE ON messages WHEN old.author_kind <> 'system' BEGIN
    INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER message_search_update AFTER UPDATE OF text ON messages WHEN old.author_kind <> 'system' BEGIN
    INSERT INTO message_search (message_search, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO message_search (rowid, text) VALUES (new.rowid, new.text);
END;
-- Visitors by the words of their name and email (an address splits at @ and dots).
CREATE VIRTUAL TABLE visitor_search USING fts5(name, email, content = 'visitors', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
INSERT INTO visitor_search (rowid, name, email) SELECT rowid, COALESCE(name, ''), COALESCE(email, '') FROM visitors;
CREATE TRIGGER visitor_search_insert AFTER INSERT ON visitors BEGIN
    INSERT INTO visitor_search (rowid, name, email) VALUES (new.rowid, COALESCE(new.name, ''), COALESCE(new.email, ''));
END;
CREATE TRIGGER visitor_search_delete AFTER DELETE ON visitors BEGIN
    INSERT INTO visitor_search (visitor_search, rowid, name, email) VALUES ('delete', old.rowid, COALESCE(old.name, ''), COALESCE(old.email, ''));
END;
CREATE TRIGGER visitor_search_update AFTER UPDATE OF name, email ON visitors BEGIN
    INSERT INTO visitor_search (visitor_search, rowid, name, email) VALUES ('delete', old.rowid, COALESCE(old.name, ''), COALESCE(old.email, ''));
    INSERT INTO visitor_search (rowid, name, email) VALUES (new.rowid, COALESCE(new.name, ''), COALESCE(new.email, ''));
END;
