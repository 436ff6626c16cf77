//! Content topics, 23/WAKU2-TOPICS, in the form autosharding reads them.
//!
//! ```text
//! short form:  /{application}/{version}/{name}/{encoding}
//! full form:   /{generation}/{application}/{version}/{name}/{encoding}    generation = "0"
//! ```
//!
//! Checks, in order (each cites its source):
//! - at most [`MAX_CONTENT_TOPIC_LEN`] bytes (kaiwa bound, see [`crate::limits`]);
//! - every byte visible ASCII, `0x21..=0x7e` (kaiwa rule: no whitespace, no control bytes, no
//!   look-alike Unicode in routing strings; every Waku example topic complies);
//! - a leading `/`, then 4 or 5 `/`-separated segments, none empty (23/WAKU2-TOPICS "Content
//!   topic format"; relay-sharding "Content Topics Format for Autosharding"; nwaku
//!   `NsContentTopic.parse` rejects other counts and empty fields);
//! - in the full form the generation is `0` (relay-sharding: "Generation default value is `0`";
//!   nwaku: "Generation > 0 are not supported yet").
//!
//! The text is kept exactly as given: `/0/a/1/n/e` and `/a/1/n/e` route to the same shard but
//! are different topics for filters, stores and the message hash.

use core::fmt;
use core::ops::Range;
use core::str::FromStr;

use crate::limits::MAX_CONTENT_TOPIC_LEN;

/// Why a string is not a content topic. Carries positions and counts, never the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentTopicError {
    /// The topic is longer than [`MAX_CONTENT_TOPIC_LEN`].
    #[error("content topic is {actual} bytes long, more than {max}")]
    TooLong {
        /// The bound.
        max: usize,
        /// The length received.
        actual: usize,
    },
    /// A byte outside visible ASCII (`0x21..=0x7e`).
    #[error("content topic byte at offset {offset} is not visible ASCII")]
    InvalidByte {
        /// Offset of the first offending byte.
        offset: usize,
    },
    /// The topic does not start with `/`.
    #[error("content topic does not start with '/'")]
    MissingLeadingSlash,
    /// Not 4 (short form) or 5 (full form) segments.
    #[error("content topic has {actual} segments; 4, or 5 with a generation, are expected")]
    SegmentCount {
        /// Number of segments found.
        actual: usize,
    },
    /// A segment is empty (`//` or a trailing `/`).
    #[error("content topic segment {index} is empty")]
    EmptySegment {
        /// Zero-based segment index.
        index: usize,
    },
    /// The full form names a generation other than `0`.
    #[error("content topic generation is not 0")]
    UnsupportedGeneration,
}

/// A validated content topic (23/WAKU2-TOPICS); see the module documentation for the rules.
///
/// Compared, ordered and hashed by its text, so it can key maps and sets.
#[derive(Clone)]
pub struct ContentTopic {
    text: String,
    application: Range<usize>,
    version: Range<usize>,
    name: Range<usize>,
    encoding: Range<usize>,
}

impl ContentTopic {
    /// Parses and validates `text`.
    ///
    /// # Errors
    ///
    /// [`ContentTopicError`] names the first rule the text breaks.
    pub fn parse(text: &str) -> Result<Self, ContentTopicError> {
        if text.len() > MAX_CONTENT_TOPIC_LEN {
            return Err(ContentTopicError::TooLong {
                max: MAX_CONTENT_TOPIC_LEN,
                actual: text.len(),
            });
        }
        if let Some(offset) = text.bytes().position(|b| !is_visible_ascii(b)) {
            return Err(ContentTopicError::InvalidByte { offset });
        }
        let rest = text.strip_prefix('/').ok_or(ContentTopicError::MissingLeadingSlash)?;
        // At most five ranges are kept; the sixth segment only counts.
        let mut segments: [Range<usize>; 5] = Default::default();
        let mut count = 0usize;
        let mut start = 1usize;
        for (index, segment) in rest.split('/').enumerate() {
            if segment.is_empty() {
                return Err(ContentTopicError::EmptySegment { index });
            }
            if let Some(slot) = segments.get_mut(index) {
                *slot = start..start + segment.len();
            }
            start += segment.len() + 1;
            count = index + 1;
        }
        let [first, second, third, fourth, fifth] = segments;
        let (application, version, name, encoding) = match count {
            4 => (first, second, third, fourth),
            5 => {
                if text.get(first) != Some("0") {
                    return Err(ContentTopicError::UnsupportedGeneration);
                }
                (second, third, fourth, fifth)
            }
            actual => return Err(ContentTopicError::SegmentCount { actual }),
        };
        Ok(Self { text: text.to_owned(), application, version, name, encoding })
    }

    /// Assembles a short-form topic from segments the caller has already validated
    /// (non-empty visible ASCII without `/`, total within [`MAX_CONTENT_TOPIC_LEN`]).
    pub(crate) fn from_valid_segments(
        application: &str,
        version: &str,
        name: &str,
        encoding: &str,
    ) -> Self {
        let text = format!("/{application}/{version}/{name}/{encoding}");
        let application_range = 1..1 + application.len();
        let version_range = application_range.end + 1..application_range.end + 1 + version.len();
        let name_range = version_range.end + 1..version_range.end + 1 + name.len();
        let encoding_range = name_range.end + 1..name_range.end + 1 + encoding.len();
        debug_assert!(Self::parse(&text).is_ok(), "derived topics are valid");
        Self {
            text,
            application: application_range,
            version: version_range,
            name: name_range,
            encoding: encoding_range,
        }
    }

    /// The whole topic.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `{application}`: with the version, the only part autosharding hashes.
    pub fn application(&self) -> &str {
        self.text.get(self.application.clone()).unwrap_or_default()
    }

    /// `{version}` of the application.
    pub fn version(&self) -> &str {
        self.text.get(self.version.clone()).unwrap_or_default()
    }

    /// `{name}`: what filters select on; it does not affect routing.
    pub fn name(&self) -> &str {
        self.text.get(self.name.clone()).unwrap_or_default()
    }

    /// `{encoding}`, for kaiwa always `proto`.
    pub fn encoding(&self) -> &str {
        self.text.get(self.encoding.clone()).unwrap_or_default()
    }
}

/// Whether `segment` may stand between two `/` of a content topic.
pub(crate) fn is_valid_segment(segment: &str) -> bool {
    !segment.is_empty() && segment.bytes().all(|b| is_visible_ascii(b) && b != b'/')
}

pub(crate) const fn is_visible_ascii(byte: u8) -> bool {
    matches!(byte, 0x21..=0x7e)
}

impl PartialEq for ContentTopic {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for ContentTopic {}

impl PartialOrd for ContentTopic {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ContentTopic {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.text.cmp(&other.text)
    }
}

impl core::hash::Hash for ContentTopic {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.text.hash(state);
    }
}

impl fmt::Display for ContentTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ContentTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ContentTopic").field(&self.text).finish()
    }
}

impl FromStr for ContentTopic {
    type Err = ContentTopicError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl TryFrom<&str> for ContentTopic {
    type Error = ContentTopicError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::parse(text)
    }
}

impl AsRef<str> for ContentTopic {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn short_and_full_forms_parse() {
        let short = ContentTopic::parse("/toychat/2/huilong/proto").unwrap();
        assert_eq!(
            (short.application(), short.version(), short.name(), short.encoding()),
            ("toychat", "2", "huilong", "proto")
        );
        let full = ContentTopic::parse("/0/myapp/1/mytopic/cbor").unwrap();
        assert_eq!(
            (full.application(), full.version(), full.name(), full.encoding()),
            ("myapp", "1", "mytopic", "cbor")
        );
        assert_eq!(full.as_str(), "/0/myapp/1/mytopic/cbor");
    }

    #[test]
    fn malformed_topics_are_rejected_with_the_rule_they_break() {
        use ContentTopicError as E;
        let cases: &[(&str, E)] = &[
            ("", E::MissingLeadingSlash),
            ("toychat/2/huilong/proto", E::MissingLeadingSlash),
            ("/toychat/2/proto", E::SegmentCount { actual: 3 }),
            ("/a/b/c/d/e/f", E::SegmentCount { actual: 6 }),
            ("/toychat//huilong/proto", E::EmptySegment { index: 1 }),
            ("/toychat/2/huilong/proto/", E::EmptySegment { index: 4 }),
            ("/", E::EmptySegment { index: 0 }),
            ("/1/myapp/1/mytopic/cbor", E::UnsupportedGeneration),
            ("/x/myapp/1/mytopic/cbor", E::UnsupportedGeneration),
            ("/toy chat/2/huilong/proto", E::InvalidByte { offset: 4 }),
            ("/toychat/2/hui\u{e9}long/proto", E::InvalidByte { offset: 14 }),
            ("/toychat/2/huilong/proto\n", E::InvalidByte { offset: 24 }),
        ];
        for (text, expected) in cases {
            assert_eq!(ContentTopic::parse(text).as_ref(), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn length_bound_is_inclusive() {
        let name_len = MAX_CONTENT_TOPIC_LEN - "/a/1//e".len();
        let at_bound = format!("/a/1/{}/e", "n".repeat(name_len));
        assert_eq!(at_bound.len(), MAX_CONTENT_TOPIC_LEN);
        assert!(ContentTopic::parse(&at_bound).is_ok());
        let over = format!("/a/1/{}/e", "n".repeat(name_len + 1));
        assert_eq!(
            ContentTopic::parse(&over),
            Err(ContentTopicError::TooLong {
                max: MAX_CONTENT_TOPIC_LEN,
                actual: MAX_CONTENT_TOPIC_LEN + 1
            })
        );
    }

    #[test]
    fn assembled_topics_equal_parsed_ones() {
        let assembled = ContentTopic::from_valid_segments("kaiwa", "1", "contact-code-00", "proto");
        assert_eq!(assembled, ContentTopic::parse("/kaiwa/1/contact-code-00/proto").unwrap());
        assert_eq!(assembled.name(), "contact-code-00");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_strings_never_panic(text in ".{0,300}") {
            let _ = ContentTopic::parse(&text);
        }

        #[test]
        fn valid_topics_round_trip(
            app in "[a-z0-9-]{1,20}", version in "[0-9]{1,3}", name in "[!-.0-~]{1,40}",
            encoding in "[a-z]{1,8}", full in any::<bool>(),
        ) {
            let text = if full {
                format!("/0/{app}/{version}/{name}/{encoding}")
            } else {
                format!("/{app}/{version}/{name}/{encoding}")
            };
            let topic = ContentTopic::parse(&text).unwrap();
            prop_assert_eq!(topic.as_str(), text.as_str());
            prop_assert_eq!(topic.application(), app.as_str());
            prop_assert_eq!(topic.version(), version.as_str());
            prop_assert_eq!(topic.name(), name.as_str());
            prop_assert_eq!(topic.encoding(), encoding.as_str());
        }
    }
}
