//! Assembles the node: client, ParityDB backend, transaction pool, networking, Aura block
//! authoring, GRANDPA finality, offchain workers and RPC.

use citrate_runtime::{apis::RuntimeApi, opaque::Block};
use futures::FutureExt;
use polkadot_sdk::{
	sc_basic_authorship,
	sc_client_api::{Backend, BlockBackend},
	sc_consensus,
	sc_consensus_aura::{self, ImportQueueParams, SlotProportion, StartAuraParams},
	sc_consensus_grandpa::{self, SharedVoterState},
	sc_executor::{self, HeapAllocStrategy, DEFAULT_HEAP_ALLOC_STRATEGY},
	sc_network, sc_offchain,
	sc_service::{self, error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig},
	sc_telemetry::{Telemetry, TelemetryWorker},
	sc_transaction_pool,
	sc_transaction_pool_api::OffchainTransactionPoolFactory,
	sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair},
	sp_io, sp_runtime, sp_timestamp,
};
use std::{path::Path, sync::Arc, time::Duration};

/// The host functions the runtime may call.
pub type HostFunctions = sp_io::SubstrateHostFunctions;

pub(crate) type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;

/// GRANDPA justifications are imported and generated at least every this many blocks.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(
		sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// The parts shared by every command that opens the database. `wasm_cache_dir` keeps the
/// runtime compiled to machine code between starts.
pub fn new_partial(
	config: &Configuration,
	wasm_cache_dir: Option<&Path>,
) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, polkadot_sdk::sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = wasm_executor(config, wasm_cache_dir);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			Vec::new(),
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let cidp_client = client.clone();
	let import_queue = sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(
		ImportQueueParams {
			block_import: grandpa_block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import.clone())),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						polkadot_sdk::sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		},
	)?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// The runtime executor `sc_service::new_wasm_executor` builds, plus the compiled-code cache.
fn wasm_executor(
	config: &Configuration,
	cache_dir: Option<&Path>,
) -> sc_executor::WasmExecutor<HostFunctions> {
	let executor = &config.executor;
	let heap = executor.default_heap_pages.map_or(DEFAULT_HEAP_ALLOC_STRATEGY, |pages| {
		HeapAllocStrategy::Static { extra_pages: pages as _ }
	});
	let builder = sc_executor::WasmExecutor::<HostFunctions>::builder()
		.with_execution_method(executor.wasm_method)
		.with_onchain_heap_alloc_strategy(heap)
		.with_offchain_heap_alloc_strategy(heap)
		.with_max_runtime_instances(executor.max_runtime_instances)
		.with_runtime_cache_size(executor.runtime_cache_size);
	match cache_dir {
		Some(dir) => match std::fs::create_dir_all(dir) {
			Ok(()) => builder.with_cache_path(dir).build(),
			Err(error) => {
				log::warn!(
					"compiled-runtime cache {} unusable ({error}); compiling on every start",
					dir.display()
				);
				builder.build()
			}
		},
		None => builder.build(),
	}
}

/// Builds and starts a full node.
pub fn new_full<
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
>(
	config: Configuration,
	wasm_cache_dir: Option<&Path>,
	ipfs: &crate::cli::IpfsParams,
	inference: &crate::cli::InferenceParams,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry),
	} = new_partial(&config, wasm_cache_dir)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let peer_store_handle = net_config.peer_store_handle();
	let genesis_hash = client
		.block_hash(0)
		.ok()
		.flatten()
		.ok_or_else(|| ServiceError::Other("the genesis block is missing".into()))?;
	let grandpa_protocol_name =
		sc_consensus_grandpa::protocol_standard_name(&genesis_hash, &config.chain_spec);
	let (grandpa_protocol_config, grandpa_notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			grandpa_protocol_name.clone(),
			metrics.clone(),
			peer_store_handle,
		);
	net_config.add_notification_protocol(grandpa_protocol_config);

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	let fetcher = ipfs_fetcher(&config, ipfs)?;
	if !ipfs.no_ipfs_gateway {
		let url = start_ipfs_gateway(ipfs, fetcher.clone(), &task_manager)?;
		// Where the pinning offchain worker reads blocks for its proofs.
		set_offchain_url(&backend, citrate_runtime::pallet_pinning::GATEWAY_STORAGE_KEY, &url);
	}
	if let Some(url) = crate::inference_service::start(
		inference,
		fetcher,
		config.prometheus_registry(),
		&task_manager,
	)? {
		// Where the inference offchain worker has its providers' requests run.
		set_offchain_url(&backend, citrate_runtime::pallet_inference::SERVICE_STORAGE_KEY, &url);
	}

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: config.role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let backoff_authoring_blocks: Option<()> = None;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps { client: client.clone(), pool: pool.clone() };
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client,
				select_chain,
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						polkadot_sdk::sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				},
				force_authoring,
				backoff_authoring_blocks,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Block authoring is essential: if it fails, the node stops.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if enable_grandpa {
		// Only an authority needs keys to vote.
		let keystore = if role.is_authority() { Some(keystore_container.keystore()) } else { None };

		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			protocol_name: grandpa_protocol_name,
		};

		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network,
			sync: Arc::new(sync_service),
			notification_service: grandpa_notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(transaction_pool),
		};

		// The voter is essential too.
		task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(task_manager)
}

/// The node's block store, `<base-path>/ipfs`, with the upstream it fetches missing blocks
/// from (`--ipfs-api` or `--ipfs-fetch-gateway`): what the gateway serves and the inference
/// service loads model packages from.
fn ipfs_fetcher(
	config: &Configuration,
	ipfs: &crate::cli::IpfsParams,
) -> Result<citrate_storage::Fetcher, ServiceError> {
	let store = citrate_storage::FsBlockStore::open(config.base_path.path().join("ipfs"))
		.map_err(|error| ServiceError::Other(format!("opening the IPFS block store: {error}")))?;
	let timeout = std::time::Duration::from_secs(60);
	let upstream = match (&ipfs.ipfs_api, ipfs.ipfs_fetch_gateways.is_empty()) {
		(Some(api), _) => Some(citrate_storage::Upstream::Kubo(
			citrate_storage::KuboClient::new(api, timeout)
				.map_err(|e| ServiceError::Other(e.to_string()))?,
		)),
		(None, false) => Some(citrate_storage::Upstream::Gateways(
			citrate_storage::GatewayFetcher::new(ipfs.ipfs_fetch_gateways.clone(), timeout)
				.map_err(|e| ServiceError::Other(e.to_string()))?,
		)),
		(None, true) => None,
	};
	Ok(citrate_storage::Fetcher::new(Arc::new(store), upstream))
}

/// Serves the node's block store as a trustless gateway; returns its URL.
fn start_ipfs_gateway(
	ipfs: &crate::cli::IpfsParams,
	fetcher: citrate_storage::Fetcher,
	task_manager: &TaskManager,
) -> Result<String, ServiceError> {
	let ip = if ipfs.ipfs_gateway_external {
		std::net::Ipv4Addr::UNSPECIFIED
	} else {
		std::net::Ipv4Addr::LOCALHOST
	};
	let listener = std::net::TcpListener::bind((ip, ipfs.ipfs_gateway_port))
		.and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
		.map_err(|error| {
			ServiceError::Other(format!(
				"IPFS gateway port {}: {error} (choose another with --ipfs-gateway-port)",
				ipfs.ipfs_gateway_port
			))
		})?;
	let address = listener.local_addr().map_err(|e| ServiceError::Other(e.to_string()))?;
	let url = format!("http://127.0.0.1:{}", address.port());
	log::info!("🌐 IPFS gateway on http://{address} (/ipfs/{{cid}}?format=raw|car)");
	task_manager.spawn_handle().spawn("ipfs-gateway", None, async move {
		let served = match tokio::net::TcpListener::from_std(listener) {
			Ok(listener) => citrate_storage::gateway::serve_fetching(listener, fetcher).await,
			Err(error) => Err(error),
		};
		if let Err(error) = served {
			log::error!("IPFS gateway stopped: {error}");
		}
	});
	Ok(url)
}

/// Writes `value` under the persistent offchain-storage `key`, where the offchain workers
/// read the URLs of the node's native services.
fn set_offchain_url(backend: &FullBackend, key: &[u8], url: &str) {
	if let Some(mut offchain_db) = backend.offchain_storage() {
		use codec::Encode;
		use polkadot_sdk::sp_core::offchain::OffchainStorage;
		offchain_db.set(
			polkadot_sdk::sp_core::offchain::STORAGE_PREFIX,
			key,
			&url.as_bytes().to_vec().encode(),
		);
	}
}
