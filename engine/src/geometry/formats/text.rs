//! Shared helpers for the text formats.

use super::super::FormatError;

/// The data as UTF-8, or an error naming the format.
pub fn utf8<'a>(format: &'static str, bytes: &'a [u8]) -> Result<&'a str, FormatError> {
    std::str::from_utf8(bytes).map_err(|e| FormatError::invalid(format, format!("not text: invalid UTF-8 at byte {}", e.valid_up_to())))
}

/// Parse one finite number; `what` names it in the error ("line 3: x").
pub fn number<T: std::str::FromStr>(format: &'static str, token: &str, what: impl Fn() -> String) -> Result<T, FormatError> {
    token.parse::<T>().map_err(|_| FormatError::invalid(format, format!("{}: {token:?} is not a number", what())))
}

/// Parse a finite f32.
pub fn float(format: &'static str, token: &str, what: impl Fn() -> String) -> Result<f32, FormatError> {
    let v: f32 = number(format, token, &what)?;
    if v.is_finite() { Ok(v) } else { Err(FormatError::invalid(format, format!("{}: {token:?} is not finite", what()))) }
}

/// Lowercase extension of a file name ("" when none).
pub fn extension(file_name: &str) -> String {
    std::path::Path::new(file_name).extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase()
}
