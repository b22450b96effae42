//! Tokenizer building blocks shared by the families: the GPT-2 byte-to-unicode table, a tiny
//! deterministic BPE trainer, and writers for `tokenizer.json` (BPE, WordPiece and Unigram
//! models), `vocab.json`, `merges.txt` and `vocab.txt`.
//!
//! `tokenizer.json` is assembled by hand so that vocabularies keep id order (as in the Hub's
//! files); a `serde_json::Map` would sort them by token instead.

use std::{
	collections::{HashMap, HashSet},
	fs,
	io::{self, BufWriter, Write},
	path::Path,
};

use serde_json::{json, Value};

/// GPT-2's reversible byte-to-unicode table: `table[b]` is the character standing for byte
/// `b`. Printable Latin-1 bytes map to themselves; the rest to U+0100 and up (space is 'Ġ').
pub fn byte_to_unicode() -> [char; 256] {
	let mut table = ['\0'; 256];
	let mut n = 0u32;
	for b in 0..=255u8 {
		table[b as usize] = if is_printable(b) {
			char::from(b)
		} else {
			n += 1;
			char::from_u32(255 + n).expect("U+0100..U+0143 are valid")
		};
	}
	table
}

fn is_printable(b: u8) -> bool {
	matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF)
}

/// The 256 byte symbols in the order GPT-2's and CLIP's vocabularies list them: printable
/// bytes first, then the remapped ones (so 'Ġ' is id 220, as in GPT-2).
pub fn byte_symbols() -> Vec<String> {
	let table = byte_to_unicode();
	let printable = (0..=255u8).filter(|&b| is_printable(b));
	let rest = (0..=255u8).filter(|&b| !is_printable(b));
	printable.chain(rest).map(|b| table[b as usize].to_string()).collect()
}

/// Maps text to its byte-level symbols ("the cat" -> "theĠcat").
pub fn byte_level(text: &str) -> String {
	let table = byte_to_unicode();
	text.bytes().map(|b| table[b as usize]).collect()
}

/// Learns up to `max_merges` BPE merges from weighted words given as symbol sequences, most
/// frequent pair first. Ties break on the pair's text, so the result is deterministic.
pub fn learn_merges(words: &[(Vec<String>, u64)], max_merges: usize) -> Vec<(String, String)> {
	// Symbols are interned to ids so each round's pair counting stays cheap.
	let mut names: Vec<String> = Vec::new();
	let mut ids: HashMap<String, u32> = HashMap::new();
	let mut intern = |s: &str, names: &mut Vec<String>| -> u32 {
		if let Some(&id) = ids.get(s) {
			return id;
		}
		names.push(s.to_string());
		ids.insert(s.to_string(), names.len() as u32 - 1);
		names.len() as u32 - 1
	};
	let mut corpus: Vec<(Vec<u32>, u64)> = words
		.iter()
		.map(|(symbols, w)| (symbols.iter().map(|s| intern(s, &mut names)).collect(), *w))
		.collect();
	let mut merges = Vec::new();
	while merges.len() < max_merges {
		let mut counts: HashMap<(u32, u32), u64> = HashMap::new();
		for (symbols, w) in &corpus {
			for pair in symbols.windows(2) {
				*counts.entry((pair[0], pair[1])).or_default() += w;
			}
		}
		let best = counts.into_iter().max_by(|(pa, ca), (pb, cb)| {
			ca.cmp(cb).then_with(|| {
				let key =
					|p: &(u32, u32)| (names[p.0 as usize].as_str(), names[p.1 as usize].as_str());
				key(pb).cmp(&key(pa))
			})
		});
		let Some(((a, b), _)) = best else { break };
		let merged = format!("{}{}", names[a as usize], names[b as usize]);
		let m = intern(&merged, &mut names);
		merges.push((names[a as usize].clone(), names[b as usize].clone()));
		for (symbols, _) in &mut corpus {
			let mut i = 0;
			while i + 1 < symbols.len() {
				if symbols[i] == a && symbols[i + 1] == b {
					symbols[i] = m;
					symbols.remove(i + 1);
				}
				i += 1;
			}
		}
	}
	merges
}

/// A BPE vocabulary (tokens in id order) and its merges, plus the model options that differ
/// between GPT-2 and CLIP.
pub struct Bpe {
	pub vocab: Vec<String>,
	pub merges: Vec<(String, String)>,
	pub unk_token: Option<String>,
	pub end_of_word_suffix: String,
}

impl Bpe {
	/// Appends merges (skipping ones whose result already exists) and their results to the
	/// vocabulary, stopping at `limit` merges in total.
	pub fn extend_merges(
		&mut self,
		known: &mut HashSet<String>,
		candidates: impl IntoIterator<Item = (String, String)>,
		limit: usize,
	) {
		for (a, b) in candidates {
			if self.merges.len() >= limit {
				return;
			}
			let merged = format!("{a}{b}");
			if !known.contains(&a) || !known.contains(&b) || known.contains(&merged) {
				continue;
			}
			known.insert(merged.clone());
			self.vocab.push(merged);
			self.merges.push((a, b));
		}
	}

	pub fn model_json(&self) -> String {
		let mut s = String::from("{\n    \"type\": \"BPE\",\n    \"dropout\": null,\n");
		s += &format!("    \"unk_token\": {},\n", serde_json::to_string(&self.unk_token).unwrap());
		s += "    \"continuing_subword_prefix\": \"\",\n";
		s += &format!("    \"end_of_word_suffix\": {},\n", js(&self.end_of_word_suffix));
		s += "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n";
		s += &format!("    \"vocab\": {},\n", vocab_object(&self.vocab, 6));
		s += "    \"merges\": [\n";
		let merges: Vec<String> =
			self.merges.iter().map(|(a, b)| format!("      {}", js(&format!("{a} {b}")))).collect();
		s += &merges.join(",\n");
		s += "\n    ]\n  }";
		s
	}

	/// `vocab.json` as the slow (Python) tokenizers read it.
	pub fn write_vocab_json(&self, path: &Path) -> io::Result<()> {
		fs::write(path, vocab_object(&self.vocab, 0).replace('\n', ""))
	}

	/// `merges.txt`, with the `#version` line the Hub's files start with.
	pub fn write_merges_txt(&self, path: &Path) -> io::Result<()> {
		let mut out = BufWriter::new(fs::File::create(path)?);
		writeln!(out, "#version: 0.2")?;
		for (a, b) in &self.merges {
			writeln!(out, "{a} {b}")?;
		}
		out.flush()
	}
}

/// A JSON string literal.
pub fn js(s: &str) -> String {
	serde_json::to_string(s).expect("a string serialises")
}

/// `{"tok": id, ...}` in id order, one entry per line indented by `indent` spaces.
pub fn vocab_object(vocab: &[String], indent: usize) -> String {
	let pad = " ".repeat(indent);
	let entries: Vec<String> =
		vocab.iter().enumerate().map(|(i, t)| format!("{pad}{}: {i}", js(t))).collect();
	format!("{{\n{}\n{}}}", entries.join(",\n"), " ".repeat(indent.saturating_sub(2)))
}

/// One `added_tokens` entry.
pub fn added_token(id: usize, content: &str, normalized: bool) -> Value {
	json!({
		"id": id,
		"content": content,
		"single_word": false,
		"lstrip": false,
		"rstrip": false,
		"normalized": normalized,
		"special": true,
	})
}

/// The pipeline parts of a `tokenizer.json`; `model` is already-serialised JSON.
pub struct TokenizerJson {
	pub added_tokens: Vec<Value>,
	pub normalizer: Value,
	pub pre_tokenizer: Value,
	pub post_processor: Value,
	pub decoder: Value,
	pub model: String,
}

impl TokenizerJson {
	pub fn write(&self, path: &Path) -> io::Result<()> {
		let part = |v: &Value| indent(&serde_json::to_string_pretty(v).expect("JSON serialises"));
		let text = format!(
			"{{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": {},\n  \"normalizer\": {},\n  \"pre_tokenizer\": {},\n  \"post_processor\": {},\n  \"decoder\": {},\n  \"model\": {}\n}}",
			part(&Value::Array(self.added_tokens.clone())),
			part(&self.normalizer),
			part(&self.pre_tokenizer),
			part(&self.post_processor),
			part(&self.decoder),
			self.model,
		);
		fs::write(path, text)
	}
}

fn indent(pretty: &str) -> String {
	pretty.replace('\n', "\n  ")
}

/// `{"type": "TemplateProcessing", ...}` for `single` and `pair` given as lists of either
/// `"$A"`/`"$B"` or special-token names, with the ids of those specials.
pub fn template(single: &[&str], pair: &[&str], specials: &[(&str, usize)]) -> Value {
	let piece = |p: &&str, second: bool| -> Value {
		let type_id = u32::from(second);
		match *p {
			"$A" => json!({"Sequence": {"id": "A", "type_id": 0}}),
			"$B" => json!({"Sequence": {"id": "B", "type_id": 1}}),
			tok => json!({"SpecialToken": {"id": tok, "type_id": type_id}}),
		}
	};
	// Specials after `$B` belong to the second segment, as in BERT's `[SEP]`.
	let seq = |items: &[&str]| -> Vec<Value> {
		let mut second = false;
		items
			.iter()
			.map(|p| {
				if *p == "$B" {
					second = true;
				}
				piece(p, second)
			})
			.collect()
	};
	let mut special_tokens = serde_json::Map::new();
	for (tok, id) in specials {
		special_tokens.insert(tok.to_string(), json!({"id": tok, "ids": [id], "tokens": [tok]}));
	}
	json!({
		"type": "TemplateProcessing",
		"single": seq(single),
		"pair": seq(pair),
		"special_tokens": special_tokens,
	})
}

/// Writes any serialisable value as pretty JSON with a trailing newline (the Hub's style for
/// `config.json` and friends; keys come out sorted, as transformers writes them).
pub fn write_json(path: &Path, value: &Value) -> io::Result<()> {
	let mut text = serde_json::to_string_pretty(value).expect("JSON serialises");
	text.push('\n');
	fs::write(path, text)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn byte_table_matches_gpt2() {
		let symbols = byte_symbols();
		assert_eq!(symbols.len(), 256);
		assert_eq!(symbols[0], "!");
		assert_eq!(symbols[220], "Ġ");
		assert_eq!(byte_level(" the"), "Ġthe");
		assert_eq!(symbols.iter().collect::<HashSet<_>>().len(), 256);
	}

	#[test]
	fn trainer_merges_frequent_pairs_first() {
		let w = |s: &str, n| (s.chars().map(String::from).collect::<Vec<_>>(), n);
		let merges = learn_merges(&[w("the", 10), w("then", 3), w("hen", 1)], 10);
		assert_eq!(merges[0], ("h".into(), "e".into()));
		assert_eq!(merges[1], ("t".into(), "he".into()));
	}
}
