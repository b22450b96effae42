//! The MCP server: Citrate's models as resources, tools to find and run them (paid by the
//! server's signer within its caps), receipts, and prompts for the common flows.

use super::{
	access,
	cards::{self, card, MIME},
	chain::{Chain, ModelView},
	import::ImportArgs,
	inference::{self, Progress, RunError},
	input::RunArgs,
	prompts, receipt,
	spending::Budget,
	store::StoreTarget,
};
use citrate_model_primitives::{InferenceTask, ModelId};
use polkadot_sdk::sp_core::sr25519;
use rmcp::{
	handler::server::{router::tool::ToolRouter, wrapper::Parameters},
	model::*,
	service::{NotificationContext, RequestContext},
	task_manager::{TaskExit, TaskManager, TaskOptions},
	tool, tool_handler, tool_router, ErrorData as McpError, Peer, RoleServer, ServerHandler,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};

/// What every session of one server shares: the chain, the signer and its spending caps
/// (the session cap holds across all HTTP sessions, so a new session does not reset it), the
/// tasks, and the connected peers that list-changed notifications go to.
pub struct Shared {
	pub chain: Chain,
	pub signer: Option<sr25519::Pair>,
	pub budget: Budget,
	pub tasks: TaskManager,
	pub peers: Mutex<Vec<Peer<RoleServer>>>,
	/// Where packages and inputs too large to send inline go.
	pub store: StoreTarget,
}

impl Shared {
	/// The connected peers, dropping those that left.
	pub fn peers(&self) -> Vec<Peer<RoleServer>> {
		let mut peers = self.peers.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		peers.retain(|peer| !peer.is_transport_closed());
		peers.clone()
	}
}

/// One handler per MCP session.
#[derive(Clone)]
pub struct CitrateMcp {
	shared: Arc<Shared>,
	tool_router: ToolRouter<Self>,
}

/// A past request `get_receipt` reads.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ReceiptArgs {
	/// The request's id (`receipt.request_id` of a run_inference result).
	pub request_id: u64,
}

/// The tier `purchase_access` buys.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct PurchaseArgs {
	/// The model's id.
	pub model_id: ModelId,
	/// The tier to buy (the card's `access_tiers`).
	pub tier_id: u32,
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

/// Sends the request's client MCP progress notifications (progress, total, message), when
/// it asked for them with a progress token.
fn progress_notifier(
	context: &RequestContext<RoleServer>,
) -> impl Fn(f64, Option<f64>, String) + Send + Sync + 'static {
	let peer = context.peer.clone();
	let token = context.meta.get_progress_token();
	move |progress, total, message| {
		let Some(token) = token.clone() else { return };
		let mut note = ProgressNotificationParam::new(token, progress).with_message(message);
		if let Some(total) = total {
			note = note.with_total(total);
		}
		let peer = peer.clone();
		tokio::spawn(async move {
			let _ = peer.notify_progress(note).await;
		});
	}
}

fn json_result(value: Value) -> CallToolResult {
	CallToolResult::structured(value)
}

#[tool_router]
impl CitrateMcp {
	pub fn new(shared: Arc<Shared>) -> Self {
		CitrateMcp { shared, tool_router: Self::tool_router() }
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
		let models = match self.shared.chain.models().await {
			Ok(models) => models,
			Err(e) => return tool_error(format!("reading the registry: {e}")),
		};
		let max_fee = match args.max_price.map(|ctr| cards::plancks_of(&ctr.to_string())) {
			Some(Err(e)) => return tool_error(format!("max_price: {e}")),
			Some(Ok(max)) => Some(max),
			None => None,
		};
		let lower = |bytes: &[u8]| String::from_utf8_lossy(bytes).to_lowercase();
		let mut found = vec![];
		for (id, info) in models {
			let view = match self.shared.chain.view(id, info).await {
				Ok(view) => view,
				Err(e) => return tool_error(format!("reading model {id}: {e}")),
			};
			let metadata = view.metadata.as_ref();
			let matches = task.is_none_or(|t| metadata.is_some_and(|m| m.task == t))
				&& args.tag.as_ref().is_none_or(|tag| {
					metadata.is_some_and(|m| m.tags.iter().any(|t| t.as_slice() == tag.as_bytes()))
				}) && args
				.name
				.as_ref()
				.is_none_or(|name| lower(&view.info.name).contains(&name.to_lowercase()))
				&& args.license.as_ref().is_none_or(|license| {
					lower(&view.info.license.identifier) == license.to_lowercase()
				}) && max_fee
				.is_none_or(|max| view.fee_per_call().is_some_and(|fee| fee <= max));
			if matches {
				found.push(card(&view));
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
		match self.shared.chain.model(id).await {
			Ok(Some(view)) => json_result(card(&view)),
			Ok(None) => tool_error(format!(
				"no model {id} is registered; search_models lists the registered ones"
			)),
			Err(e) => tool_error(format!("reading model {id}: {e}")),
		}
	}

	/// Runs a model on an input in its task's natural form (text, an image or audio, a
	/// prompt) as an on-chain request paid by this server's account, waits until the result
	/// is final, and returns it decoded (labels with scores, an embedding, a transcript, text)
	/// with its receipt (request id, blocks, output hash, providers, fees). Clients that
	/// support MCP tasks get a task to poll, with the blocks as its status, and can cancel it
	/// (which cancels the request on chain).
	#[tool(annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
	async fn run_inference(
		&self,
		Parameters(args): Parameters<RunArgs>,
		context: RequestContext<RoleServer>,
	) -> Result<CallToolResponse, McpError> {
		let model = match self.resolve(args.model_id, args.name.as_deref()).await {
			Ok(model) => model,
			Err(text) => return Ok(tool_error(text).into()),
		};
		let shared = self.shared.clone();
		if context.client_capabilities().is_some_and(|c| c.supports_tasks()) {
			// rmcp fails a task still running at its time-to-live: leave the wait room.
			let wait = args.timeout_secs.unwrap_or(inference::DEFAULT_TIMEOUT.as_secs());
			let options = TaskOptions::new()
				.with_ttl_ms(wait.saturating_add(300).saturating_mul(1000))
				.with_poll_interval_ms(500)
				.with_status_message(format!("submitting a request to model {}", model.id));
			let task = self.shared.tasks.spawn(options, move |task| {
				Box::pin(async move {
					let status = task.clone();
					let progress = move |p: Progress| status.set_status_message(p.message);
					let outcome =
						inference::run(&shared, &model, &args, &progress, task.cancelled()).await;
					match outcome {
						Ok(value) => Ok(CallToolResult::structured(value)),
						Err(RunError::Refused(text)) => Ok(tool_error(text)),
						Err(RunError::Cancelled(text)) => {
							log::info!("{text}");
							Err(TaskExit::Cancelled)
						}
					}
				})
			});
			return Ok(CallToolResponse::Task(CreateTaskResult::new(task)));
		}
		let notify = progress_notifier(&context);
		let progress =
			move |p: Progress| notify(f64::from(p.blocks), Some(f64::from(p.of)), p.message);
		let outcome =
			inference::run(&shared, &model, &args, &progress, context.ct.cancelled()).await;
		Ok(match outcome {
			Ok(value) => json_result(value),
			Err(RunError::Refused(text) | RunError::Cancelled(text)) => tool_error(text),
		}
		.into())
	}

	/// Reads the receipt of a past request from finalized chain state and checks it: final,
	/// signed by each provider's key, the output matching the signed output hash.
	#[tool(annotations(read_only_hint = true, open_world_hint = false))]
	async fn get_receipt(&self, Parameters(args): Parameters<ReceiptArgs>) -> CallToolResult {
		match receipt::get_receipt(&self.shared.chain, args.request_id).await {
			Ok(receipt) => json_result(receipt),
			Err(text) => tool_error(text),
		}
	}

	/// Imports a Hugging Face model repository on this machine (a directory, or `org/name`
	/// in the local Hugging Face cache): builds and validates its model package in the
	/// engine, adds it to the node's store and registers it as this server's account with its
	/// metadata and import attestation. Progress names each step.
	#[tool(annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
	async fn import_model(
		&self,
		Parameters(args): Parameters<ImportArgs>,
		context: RequestContext<RoleServer>,
	) -> CallToolResult {
		let notify = progress_notifier(&context);
		let steps = std::sync::atomic::AtomicU32::new(0);
		let report = move |step: String| {
			let done = steps.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
			notify(f64::from(done), None, step);
		};
		let shared = &self.shared;
		match super::import::import_model(shared, &shared.store, args, report).await {
			Ok(summary) => json_result(summary),
			Err(text) => tool_error(text),
		}
	}

	/// Buys an access tier of a model for this server's account (within the spending caps),
	/// for models whose card lists `access_tiers`.
	#[tool(annotations(read_only_hint = false, destructive_hint = false, open_world_hint = false))]
	async fn purchase_access(&self, Parameters(args): Parameters<PurchaseArgs>) -> CallToolResult {
		let bought = match self.resolve(Some(args.model_id), None).await {
			Ok(model) => access::purchase(&self.shared, &model, args.tier_id).await,
			Err(text) => Err(text),
		};
		match bought {
			Ok(value) => json_result(value),
			Err(text) => tool_error(text),
		}
	}
}

impl CitrateMcp {
	/// The model an agent named by id or by name.
	async fn resolve(&self, id: Option<ModelId>, name: Option<&str>) -> Result<ModelView, String> {
		let id = match (id, name) {
			(Some(id), None) => id,
			(None, Some(name)) => self
				.latest_named(name)
				.await?
				.ok_or_else(|| format!("no model is registered as `{name}`"))?,
			_ => return Err("give exactly one of model_id or name".into()),
		};
		self.shared.chain.model(id).await?.ok_or_else(|| {
			format!("no model {id} is registered; search_models lists the registered ones")
		})
	}

	/// The latest version registered under `name`.
	async fn latest_named(&self, name: &str) -> Result<Option<ModelId>, String> {
		let models = self.shared.chain.models().await?;
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
		match self.shared.chain.model(id).await {
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
				.enable_prompts()
				.enable_resources()
				.enable_resources_list_changed()
				.enable_tools()
				.enable_tasks()
				.build(),
		)
		.with_server_info(Implementation::new("citrate", env!("CARGO_PKG_VERSION")))
		.with_instructions(
			"Citrate is a blockchain whose models run verified inference. Each registered \
			 model is a resource (citrate://models/{id}) whose card gives its task, inputs, \
			 license, price and providers; search_models finds them, run_inference runs one \
			 and returns the result with its on-chain receipt, get_receipt checks a past one.",
		)
	}

	async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
		self.shared
			.peers
			.lock()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.push(context.peer);
	}

	async fn list_prompts(
		&self,
		_request: Option<PaginatedRequestParams>,
		_context: RequestContext<RoleServer>,
	) -> Result<ListPromptsResult, McpError> {
		Ok(ListPromptsResult::with_all_items(prompts::list()))
	}

	async fn get_prompt(
		&self,
		request: GetPromptRequestParams,
		_context: RequestContext<RoleServer>,
	) -> Result<GetPromptResponse, McpError> {
		prompts::get(&request.name, request.arguments.as_ref())
			.map(Into::into)
			.map_err(|text| McpError::invalid_params(text, None))
	}

	async fn get_task(
		&self,
		request: GetTaskParams,
		_context: RequestContext<RoleServer>,
	) -> Result<GetTaskResult, McpError> {
		Ok(GetTaskResult::new(self.shared.tasks.get_task(&request.task_id)?))
	}

	async fn update_task(
		&self,
		request: UpdateTaskParams,
		_context: RequestContext<RoleServer>,
	) -> Result<(), McpError> {
		self.shared.tasks.update_task(&request.task_id, request.input_responses)
	}

	async fn cancel_task(
		&self,
		request: CancelTaskParams,
		_context: RequestContext<RoleServer>,
	) -> Result<(), McpError> {
		self.shared.tasks.cancel_task(&request.task_id)
	}

	async fn list_resources(
		&self,
		_request: Option<PaginatedRequestParams>,
		_context: RequestContext<RoleServer>,
	) -> Result<ListResourcesResult, McpError> {
		let models =
			self.shared.chain.models().await.map_err(|e| McpError::internal_error(e, None))?;
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
