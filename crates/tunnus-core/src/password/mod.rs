//! The password policy (what a new password must look like) and Argon2id
//! hashing (how it is stored). Rules are data so the set-password page can
//! list them and a refused password can name exactly the rules it broke.

mod hashing;
mod policy;

pub use hashing::{Argon2Config, HashError, HasherWithMemory, PasswordHasher, Verified};
pub use policy::{PasswordPolicy, PasswordRule, PasswordViolation};
