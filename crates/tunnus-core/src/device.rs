//! User codes of the device authorization grant (RFC 8628 §6.1): short,
//! easy to read aloud and type, case-insensitive, without vowels (no words)
//! and without look-alike characters.

use rand::Rng;

/// 20 consonants: 20^8 ≈ 2.56 × 10^10 codes, ~34 bits of entropy; with
/// codes living 10 minutes and entry attempts throttled, guessing is hopeless.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A new code, shown as `XXXX-XXXX`.
pub fn generate_user_code(rng: &mut impl Rng) -> String {
    let chars: String = (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The canonical form of what a person typed (`bcdf ghjk` → `BCDF-GHJK`),
/// or `None` if it cannot be a user code.
pub fn normalize_user_code(input: &str) -> Option<String> {
    let chars: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (chars.len() == 8 && chars.bytes().all(|b| ALPHABET.contains(&b)))
        .then(|| format!("{}-{}", &chars[..4], &chars[4..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_normalise() {
        let code = generate_user_code(&mut rand::rng());
        assert_eq!(code.len(), 9);
        assert_eq!(normalize_user_code(&code).as_deref(), Some(code.as_str()));
        assert_eq!(normalize_user_code(&code.to_ascii_lowercase().replace('-', " ")).as_deref(), Some(code.as_str()));
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
        assert_eq!(normalize_user_code("ABCD-EFGH"), None, "vowels never appear");
        assert_eq!(normalize_user_code("BCDF-GHJK-L"), None);
    }
}
