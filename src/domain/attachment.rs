//! Files sent in a chat: which kinds a team accepts, what a file name may be, and what a file
//! really is. The type is decided here from the name's extension and checked against the bytes'
//! signature; a file whose content does not match its name is refused, and the type Baton
//! serves it with is always the one from this table, never the uploader's claim.

use super::values::InvalidField;

/// A family of files a team can allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// PNG, JPEG, GIF, WebP: shown inline.
    Image,
    Pdf,
    /// Plain text and CSV.
    Text,
    /// Word, Excel, PowerPoint and OpenDocument files.
    Office,
    /// ZIP archives.
    Archive,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Self::Image, Self::Pdf, Self::Text, Self::Office, Self::Archive];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Pdf => "pdf",
            Self::Text => "text",
            Self::Office => "office",
            Self::Archive => "archive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The set of kinds a team accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kinds(u8);

impl Default for Kinds {
    /// Images, PDFs, text and office documents; archives are opt-in.
    fn default() -> Self {
        Self::of(&[Kind::Image, Kind::Pdf, Kind::Text, Kind::Office])
    }
}

impl Kinds {
    pub fn of(kinds: &[Kind]) -> Self {
        Self(kinds.iter().fold(0, |acc, k| acc | k.bit()))
    }

    pub fn contains(self, k: Kind) -> bool {
        self.0 & k.bit() != 0
    }

    pub fn list(self) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| self.contains(*k)).collect()
    }

    /// From names as stored or sent; an unknown name is refused.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, InvalidField> {
        let mut kinds = Vec::with_capacity(names.len());
        for n in names {
            let k = Kind::parse(n.as_ref()).ok_or_else(|| {
                InvalidField::new("attachment_kinds", format!("unknown kind {:?}; use image, pdf, text, office or archive", n.as_ref()))
            })?;
            kinds.push(k);
        }
        Ok(Self::of(&kinds))
    }
}

/// The largest file a team may allow (bytes), and the default.
pub const MAX_BYTES_LIMIT: i64 = 25 * 1024 * 1024;
pub const DEFAULT_MAX_BYTES: i64 = 10 * 1024 * 1024;
/// Files one message may carry.
pub const MAX_PER_MESSAGE: usize = 10;
/// Longest file name kept, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// What a file is: its kind and the type it is served with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileType {
    pub kind: Kind,
    pub content_type: &'static str,
}

/// Extension → (kind, content type, signature check).
const TYPES: &[(&str, Kind, &str, Signature)] = &[
    ("png", Kind::Image, "image/png", Signature::Prefix(b"\x89PNG\r\n\x1a\n")),
    ("jpg", Kind::Image, "image/jpeg", Signature::Prefix(b"\xff\xd8\xff")),
    ("jpeg", Kind::Image, "image/jpeg", Signature::Prefix(b"\xff\xd8\xff")),
    ("gif", Kind::Image, "image/gif", Signature::Gif),
    ("webp", Kind::Image, "image/webp", Signature::Webp),
    ("pdf", Kind::Pdf, "application/pdf", Signature::Prefix(b"%PDF-")),
    ("txt", Kind::Text, "text/plain; charset=utf-8", Signature::Text),
    ("csv", Kind::Text, "text/csv; charset=utf-8", Signature::Text),
    ("log", Kind::Text, "text/plain; charset=utf-8", Signature::Text),
    ("docx", Kind::Office, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Signature::Zip),
    ("xlsx", Kind::Office, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", Signature::Zip),
    ("pptx", Kind::Office, "application/vnd.openxmlformats-officedocument.presentationml.presentation", Signature::Zip),
    ("odt", Kind::Office, "application/vnd.oasis.opendocument.text", Signature::Zip),
    ("ods", Kind::Office, "application/vnd.oasis.opendocument.spreadsheet", Signature::Zip),
    ("odp", Kind::Office, "application/vnd.oasis.opendocument.presentation", Signature::Zip),
    ("doc", Kind::Office, "application/msword", Signature::Prefix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ("xls", Kind::Office, "application/vnd.ms-excel", Signature::Prefix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ("ppt", Kind::Office, "application/vnd.ms-powerpoint", Signature::Prefix(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")),
    ("zip", Kind::Archive, "application/zip", Signature::Zip),
];

#[derive(Debug, Clone, Copy)]
enum Signature {
    Prefix(&'static [u8]),
    Gif,
    Webp,
    Zip,
    /// UTF-8 without NUL or other control characters than tab, newline, carriage return.
    Text,
}

impl Signature {
    fn matches(self, bytes: &[u8]) -> bool {
        match self {
            Self::Prefix(p) => bytes.starts_with(p),
            Self::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
            Self::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
            Self::Zip => bytes.starts_with(b"PK\x03\x04"),
            Self::Text => {
                let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
                std::str::from_utf8(text).is_ok_and(|s| !s.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
            }
        }
    }
}

/// A file name as shown and offered for download: the last path segment, without control
/// characters, trimmed, with an extension Baton knows.
pub fn file_name(raw: &str) -> Result<String, InvalidField> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    // Control characters and the invisible direction marks (which can show a false extension)
    // are dropped.
    let hidden = |c: char| c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}');
    let name: String = last.chars().filter(|c| !hidden(*c)).collect::<String>().trim().trim_start_matches('.').to_string();
    if name.is_empty() {
        return Err(InvalidField::new("name", "give the file's name (e.g. ?name=photo.png)"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(InvalidField::new("name", format!("must be at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name)
}

/// The file's type, from its name and checked against its content, if the team accepts it.
pub fn identify(name: &str, bytes: &[u8], allowed: Kinds) -> Result<FileType, InvalidField> {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let Some(&(_, kind, content_type, signature)) = TYPES.iter().find(|(e, ..)| *e == ext) else {
        return Err(InvalidField::new("name", format!("files of this type cannot be sent; allowed: {}", allowed_words(allowed))));
    };
    if !allowed.contains(kind) {
        return Err(InvalidField::new("name", format!("this team does not accept {} files; allowed: {}", kind.as_str(), allowed_words(allowed))));
    }
    if bytes.is_empty() {
        return Err(InvalidField::new("body", "the file is empty"));
    }
    if !signature.matches(bytes) {
        return Err(InvalidField::new("body", format!("the content is not a .{ext} file")));
    }
    Ok(FileType { kind, content_type })
}

fn allowed_words(allowed: Kinds) -> String {
    let list = allowed.list();
    if list.is_empty() { "none".into() } else { list.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn names_keep_the_last_segment_and_refuse_nothing_usable() {
        assert_eq!(file_name("C:\\Users\\me\\report.pdf").unwrap(), "report.pdf");
        assert_eq!(file_name("../../etc/passwd.txt").unwrap(), "passwd.txt");
        assert_eq!(file_name(" a\u{0}b.png ").unwrap(), "ab.png");
        assert_eq!(file_name(".hidden.txt").unwrap(), "hidden.txt");
        assert_eq!(file_name("invoice\u{202E}fdp.exe").unwrap(), "invoicefdp.exe", "no right-to-left override");
        for bad in ["", "   ", "dir/", "\u{1}"] {
            assert_eq!(file_name(bad).unwrap_err().field, "name", "{bad:?}");
        }
        assert!(file_name(&format!("{}.txt", "x".repeat(MAX_NAME_CHARS))).is_err());
    }

    #[test]
    fn a_type_comes_from_the_name_and_must_match_the_content() {
        let all = Kinds::of(&Kind::ALL);
        // (name, bytes, Ok(content type) | Err(field))
        let table: &[(&str, &[u8], Result<&str, &str>)] = &[
            ("a.png", PNG, Ok("image/png")),
            ("A.PNG", PNG, Ok("image/png")),
            ("a.jpg", b"\xff\xd8\xff\xe0", Ok("image/jpeg")),
            ("a.gif", b"GIF89a..", Ok("image/gif")),
            ("a.webp", b"RIFF\0\0\0\0WEBPVP8 ", Ok("image/webp")),
            ("a.pdf", b"%PDF-1.7", Ok("application/pdf")),
            ("a.txt", "héllo\r\n\tworld".as_bytes(), Ok("text/plain; charset=utf-8")),
            ("a.csv", b"\xef\xbb\xbfa,b\n1,2", Ok("text/csv; charset=utf-8")),
            ("a.docx", b"PK\x03\x04rest", Ok("application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
            ("a.zip", b"PK\x03\x04", Ok("application/zip")),
            // A renamed file, an HTML page posing as text, binary as text, unknown or risky types.
            ("a.png", b"%PDF-1.7", Err("body")),
            ("a.jpg", PNG, Err("body")),
            ("a.txt", b"\0\0\0", Err("body")),
            ("a.txt", b"\xff\xfe", Err("body")),
            ("a.pdf", b"", Err("body")),
            ("a.svg", b"<svg/>", Err("name")),
            ("a.html", b"<p>", Err("name")),
            ("a.exe", b"MZ", Err("name")),
            ("noextension", b"x", Err("name")),
        ];
        for (name, bytes, want) in table {
            let got = identify(name, bytes, all).map(|t| t.content_type).map_err(|e| e.field);
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn a_team_accepts_only_the_kinds_it_allows() {
        let images = Kinds::of(&[Kind::Image]);
        assert!(identify("a.png", PNG, images).is_ok());
        let err = identify("a.pdf", b"%PDF-1.4", images).unwrap_err();
        assert!(err.reason.contains("does not accept pdf") && err.reason.contains("allowed: image"), "{err}");
        assert!(!Kinds::default().contains(Kind::Archive));
        assert_eq!(Kinds::parse(&["pdf", "image"]).unwrap().list(), vec![Kind::Image, Kind::Pdf]);
        assert_eq!(Kinds::parse(&["exe"]).unwrap_err().field, "attachment_kinds");
        assert!(Kinds::parse::<&str>(&[]).unwrap().list().is_empty());
    }
}
