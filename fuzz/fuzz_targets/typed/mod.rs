//! The representative typed struct the serde targets deserialize into.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
pub enum Kind {
    Unit,
    New(i64),
    Tup(u8, String),
    Named { a: Option<i32>, b: Vec<u16> },
}

#[derive(Serialize, Deserialize, Debug)]
pub struct Record<'a> {
    pub id: i128,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(with = "serde_bytes")]
    pub blob: Vec<u8>,
    pub score: f64,
    pub tags: Vec<String>,
    pub kind: Kind,
    pub by_int: BTreeMap<i64, Option<bool>>,
    pub pair: (u64, char),
}
