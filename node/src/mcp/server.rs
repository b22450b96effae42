//! The MCP server: Citrate's models as resources, and tools to find them.

use super::{
	cards::{self, card, MIME},
	chain::Chain,
};
use citrate_model_primitives::{InferenceTask, ModelId};
use rmcp::{
	handler::server::{router::tool::ToolRouter, wrapper::Parameters},
	model::*,
	service::RequestContext,
	tool, tool_handler, tool_router, ErrorData as McpError, RoleServer, ServerHandler,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

/// One handler per MCP session; the chain connection is shared.
#[derive(Clone)]
pub struct CitrateMcp {
	chain: Arc<Chain>,
	tool_router: ToolRouter<Self>,
}

/// `search_models`' filters; every one given must match.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct SearchArgs {
	/// The task, as Hugging Face names it: feature-extraction, image-classification,
	/// text-generation, speech-to-text, zero-shot-image-classification, …
	pub task: Option<String>,
	/// A tag the model carries (e.g. `sentence-transformers`).
	pub tag: Option<String>,
	/// Text the model's name contains (case-insensitive).
	pub name: Option<String>,
	/// The license id (SPDX, e.g. `Apache-2.0`; case-insensitive).
	pub license: Option<String>,
	/// The most a call may cost in CTR (per-call price plus the compute fee).
	pub max_price: Option<f64>,
}

/// Which model `get_model` describes.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct GetModelArgs {
	/// The model's id.
	pub model_id: Option<ModelId>,
	/// The model's registered name (its latest version is described).
	pub name: Option<String>,
}

fn tool_error(message: impl Into<String>) -> CallToolResult {
	CallToolResult::error(vec![ContentBlock::text(message.into())])
}

fn json_result(value: Value) -> CallToolResult {
	CallToolResult::structured(value)
}

#[tool_router]
impl CitrateMcp {
	pub fn new(chain: Arc<Chain>) -> Self {
		CitrateMcp { chain, tool_router: Self::tool_router() }
	}

	/// Finds registered models by task, tag, name, license and price; gives their cards.
	#[tool(annotations(read_only_hint = true, open_world_hint = false))]
	async fn search_models(&self, Parameters(args): Parameters<SearchArgs>) -> CallToolResult {
		let task = match args.task.as_deref().map(|name| (name, InferenceTask::from_name(name))) {
			Some((name, None)) => {
				let known: Vec<&str> = InferenceTask::ALL.iter().map(|t| t.name()).collect();
				return tool_error(format!(
					"unknown task `{name}`; tasks are: {}",
					known.join(", ")
				));
			}
			Some((_, task)) => task,
			None => None,
		};
		let models = match self.chain.models().await {
			Ok(models) => models,
			Err(e) => return tool_error(format!("reading the registry: {e}")),
		};
		let mut found = vec![];
		for (id, _) in models {
			let view = match self.chain.model(id).await {
				Ok(Some(view)) => view,
				Ok(None) => continue,
				Err(e) => return tool_error(format!("reading model {id}: {e}")),
			};
			let card = card(&view);
			let text = |key: &str| card[key].as_str().unwrap_or_default().to_lowercase();
			let matches = task.is_none_or(|t| card["task"] == t.name())
				&& args.tag.as_ref().is_none_or(|tag| {
					card["tags"].as_array().is_some_and(|tags| tags.iter().any(|t| t == tag))
				}) && args
				.name
				.as_ref()
				.is_none_or(|name| text("name").contains(&name.to_lowercase()))
				&& args.license.as_ref().is_none_or(|license| {
					card["license"]["id"].as_str().unwrap_or_default().eq_ignore_ascii_case(license)
				}) && args.max_price.is_none_or(|max| cost_per_call(&card) <= max);
			if matches {
				found.push(card);
			}
		}
		json_result(serde_json::json!({ "models": found }))
	}

	/// Describes one model (its card): by id, or by name for its latest version.
	#[tool(annotations(read_only_hint = true, open_world_hint = false))]
	async fn get_model(&self, Parameters(args): Parameters<GetModelArgs>) -> CallToolResult {
		let id = match (args.model_id, args.name) {
			(Some(id), None) => id,
			(None, Some(name)) => match self.latest_named(&name).await {
				Ok(Some(id)) => id,
				Ok(None) => return tool_error(format!("no model is registered as `{name}`")),
				Err(e) => return tool_error(e),
			},
			_ => return tool_error("give exactly one of model_id or name"),
		};
		match self.chain.model(id).await {
			Ok(Some(view)) => json_result(card(&view)),
			Ok(None) => tool_error(format!(
				"no model {id} is registered; search_models lists the registered ones"
			)),
			Err(e) => tool_error(format!("reading model {id}: {e}")),
		}
	}
}

/// Price plus compute fee of one call, in CTR (for `max_price`).
fn cost_per_call(card: &Value) -> f64 {
	let ctr = |v: &Value| v["ctr"].as_str().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
	ctr(&card["price_per_call"]) + ctr(&card["compute_fee_per_call"])
}

impl CitrateMcp {
	/// The latest version registered under `name`.
	async fn latest_named(&self, name: &str) -> Result<Option<ModelId>, String> {
		let models = self.chain.models().await?;
		Ok(models
			.into_iter()
			.filter(|(_, info)| info.name.as_slice() == name.as_bytes())
			.max_by_key(|(_, info)| info.version)
			.map(|(id, _)| id))
	}

	async fn read_card(&self, uri: &str) -> Result<Value, McpError> {
		let id = match (cards::id_of(uri), cards::name_of(uri)) {
			(Some(id), _) => id,
			(None, Some(name)) => self
				.latest_named(&name)
				.await
				.map_err(|e| McpError::internal_error(e, None))?
				.ok_or_else(|| {
					McpError::resource_not_found(
						format!("no model is registered as `{name}`"),
						None,
					)
				})?,
			_ => {
				return Err(McpError::resource_not_found(
					format!("{uri} is not a model: use citrate://models/{{id}}"),
					None,
				))
			}
		};
		match self.chain.model(id).await {
			Ok(Some(view)) => Ok(card(&view)),
			Ok(None) => Err(McpError::resource_not_found(format!("no model {id}"), None)),
			Err(e) => Err(McpError::internal_error(e, None)),
		}
	}
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CitrateMcp {
	fn get_info(&self) -> ServerConfig {
		ServerConfig::new(
			ServerCapabilities::builder()
				.enable_tools()
				.enable_resources()
				.enable_resources_list_changed()
				.build(),
		)
		.with_server_info(Implementation::new("citrate", env!("CARGO_PKG_VERSION")))
		.with_instructions(
			"Citrate is a blockchain whose models run verified inference. Each registered \
			 model is a resource (citrate://models/{id}) whose card gives its task, inputs, \
			 license, price and providers; search_models finds them.",
		)
	}

	async fn list_resources(
		&self,
		_request: Option<PaginatedRequestParams>,
		_context: RequestContext<RoleServer>,
	) -> Result<ListResourcesResult, McpError> {
		let models = self.chain.models().await.map_err(|e| McpError::internal_error(e, None))?;
		let resources = models
			.into_iter()
			.map(|(id, info)| {
				let name = String::from_utf8_lossy(&info.name).into_owned();
				Resource::new(cards::uri(id), format!("{name} (v{})", info.version))
					.with_description(format!("The card of model {id}, {name}"))
					.with_mime_type(MIME)
			})
			.collect();
		Ok(ListResourcesResult::with_all_items(resources))
	}

	async fn list_resource_templates(
		&self,
		_request: Option<PaginatedRequestParams>,
		_context: RequestContext<RoleServer>,
	) -> Result<ListResourceTemplatesResult, McpError> {
		Ok(ListResourceTemplatesResult::with_all_items(vec![
			ResourceTemplate::new("citrate://models/{id}", "model by id")
				.with_description("A registered model's card, by its id")
				.with_mime_type(MIME),
			ResourceTemplate::new("citrate://models/by-name/{name}", "model by name")
				.with_description("The card of the latest version registered under a name")
				.with_mime_type(MIME),
		]))
	}

	async fn read_resource(
		&self,
		request: ReadResourceRequestParams,
		_context: RequestContext<RoleServer>,
	) -> Result<ReadResourceResponse, McpError> {
		let card = self.read_card(&request.uri).await?;
		let text = serde_json::to_string_pretty(&card)
			.map_err(|e| McpError::internal_error(e.to_string(), None))?;
		Ok(ReadResourceResult::new(vec![
			ResourceContents::text(text, request.uri.clone()).with_mime_type(MIME)
		])
		.into())
	}
}
