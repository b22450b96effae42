//! Helpers for the precompiles' tests (feature `testing`), so each crate only writes its
//! mock runtime and its cases.
//!
//! [`call`] runs a precompile the way a transaction does, through pallet-revive's
//! `bare_call`, and reports what a Solidity caller would see ([`Outcome`]) with the EVM logs
//! the call emitted ([`Log`]). Static and delegate contexts only arise when a contract calls,
//! so [`deploy_forwarder`] deploys a tiny hand-assembled EVM contract that passes its
//! calldata on with `CALL`, `STATICCALL` or `DELEGATECALL` and hands back the callee's output.

use alloc::{string::String, vec, vec::Vec};
use polkadot_sdk::{
	pallet_revive::{
		frame_system::{self, RawOrigin},
		precompiles::alloy::{
			primitives::IntoLogData,
			sol_types::{Panic, Revert, SolError},
		},
		AddressMapper, BalanceOf, Code, Config, Event, ExecConfig, ExecReturnValue, Pallet,
		TransactionLimits, Weight, H160, H256, U256,
	},
	sp_runtime::{traits::Bounded, DispatchError},
};

/// A runtime whose events can be read back as pallet-revive's, which every runtime built
/// by `construct_runtime!` with pallet-revive is.
pub trait TestRuntime: Config {
	/// The pallet-revive event in a runtime event, if it is one.
	fn revive_event(event: <Self as frame_system::Config>::RuntimeEvent) -> Option<Event<Self>>;
}

impl<T> TestRuntime for T
where
	T: Config,
	<T as frame_system::Config>::RuntimeEvent: TryInto<Event<T>>,
{
	fn revive_event(event: <T as frame_system::Config>::RuntimeEvent) -> Option<Event<T>> {
		event.try_into().ok()
	}
}

/// How a call ended, as the calling Solidity code sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
	/// Returned normally with this ABI-encoded output.
	Success(Vec<u8>),
	/// Reverted with `Error(string)`: `revert(reason)`.
	Revert(String),
	/// Reverted with `Panic(uint256)`, e.g. `0x41` for a resource error.
	Panic(u64),
	/// Reverted with any other data (a custom error, or nothing).
	RevertData(Vec<u8>),
	/// Trapped: no output, the call failed with this error (out of gas, a failed value
	/// transfer, an error a precompile did not turn into a revert).
	Trap(DispatchError),
}

impl Outcome {
	fn from_result(result: Result<ExecReturnValue, DispatchError>) -> Self {
		match result {
			Ok(value) => Self::from_output(value.did_revert(), value.data),
			Err(error) => Outcome::Trap(error),
		}
	}

	fn from_output(reverted: bool, data: Vec<u8>) -> Self {
		if !reverted {
			Outcome::Success(data)
		} else if let Ok(revert) = Revert::abi_decode(&data) {
			Outcome::Revert(revert.reason)
		} else if let Ok(panic) = Panic::abi_decode(&data) {
			Outcome::Panic(panic.code.saturating_to())
		} else {
			Outcome::RevertData(data)
		}
	}

	/// The output of a successful call; panics, showing the outcome, otherwise.
	#[track_caller]
	pub fn output(self) -> Vec<u8> {
		match self {
			Outcome::Success(output) => output,
			other => panic!("the call did not succeed: {other:?}"),
		}
	}

	/// `revert(reason)`, for comparisons.
	pub fn revert(reason: &str) -> Self {
		Outcome::Revert(reason.into())
	}
}

/// An EVM log: pallet-revive's `ContractEmitted` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Log {
	pub address: H160,
	pub topics: Vec<H256>,
	pub data: Vec<u8>,
}

impl Log {
	/// The log `address` emits for a Solidity event (an `alloy::sol!` event struct).
	pub fn new(address: impl Into<H160>, event: impl IntoLogData) -> Self {
		let (topics, data) = event.into_log_data().split();
		Self {
			address: address.into(),
			topics: topics.into_iter().map(|topic| H256(topic.0)).collect(),
			data: data.to_vec(),
		}
	}
}

/// What a call did: how it ended and the logs it left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Called {
	pub outcome: Outcome,
	/// The logs of this call only; a reverted call leaves none.
	pub logs: Vec<Log>,
}

/// Every EVM log emitted since block events were last cleared.
pub fn logs<T: TestRuntime>() -> Vec<Log> {
	logs_from::<T>(0)
}

fn logs_from<T: TestRuntime>(first: usize) -> Vec<Log> {
	frame_system::Pallet::<T>::events()
		.into_iter()
		.skip(first)
		.filter_map(|record| match T::revive_event(record.event)? {
			Event::ContractEmitted { contract, data, topics } => {
				Some(Log { address: contract, topics, data })
			}
			_ => None,
		})
		.collect()
}

/// Limits no test reaches: precompiles charge their own weight, which these leave room for.
fn limits<T: Config>() -> TransactionLimits<T> {
	TransactionLimits::WeightAndDeposit {
		weight_limit: Weight::MAX,
		deposit_limit: BalanceOf::<T>::max_value(),
	}
}

/// Calls `to` from `from`, sending `value` wei with raw `data`, as a substrate transaction
/// would through `Revive::call`.
pub fn call<T: TestRuntime>(
	from: &T::AccountId,
	to: impl Into<H160>,
	value: U256,
	data: Vec<u8>,
) -> Called {
	let first = frame_system::Pallet::<T>::events().len();
	let result = Pallet::<T>::bare_call(
		RawOrigin::Signed(from.clone()).into(),
		to.into(),
		value,
		limits::<T>(),
		data,
		&ExecConfig::new_substrate_tx(),
	);
	Called { outcome: Outcome::from_result(result.result), logs: logs_from::<T>(first) }
}

/// Gives `accounts` their Ethereum addresses, as `Revive::map_account` does; 32-byte
/// accounts must be mapped before they can call contracts.
#[track_caller]
pub fn map_accounts<T: Config>(accounts: &[T::AccountId]) {
	for account in accounts {
		if !T::AddressMapper::is_mapped(account) {
			Pallet::<T>::map_account(RawOrigin::Signed(account.clone()).into())
				.expect("the account can pay the mapping deposit");
		}
	}
}

/// The Ethereum address of an account.
pub fn address<T: Config>(account: &T::AccountId) -> H160 {
	T::AddressMapper::to_address(account)
}

/// How a forwarder passes its calldata on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
	/// `CALL`, forwarding the value it received: the forwarder is `msg.sender`.
	Call,
	/// `STATICCALL`: the callee may not change state.
	StaticCall,
	/// `DELEGATECALL`: the callee runs in the forwarder's context.
	DelegateCall,
}

/// EVM opcodes the forwarder uses.
mod op {
	pub const CALLVALUE: u8 = 0x34;
	pub const CALLDATASIZE: u8 = 0x36;
	pub const CALLDATACOPY: u8 = 0x37;
	pub const CODECOPY: u8 = 0x39;
	pub const RETURNDATASIZE: u8 = 0x3d;
	pub const RETURNDATACOPY: u8 = 0x3e;
	pub const JUMPI: u8 = 0x57;
	pub const GAS: u8 = 0x5a;
	pub const JUMPDEST: u8 = 0x5b;
	pub const PUSH1: u8 = 0x60;
	pub const PUSH20: u8 = 0x73;
	pub const DUP1: u8 = 0x80;
	pub const CALL: u8 = 0xf1;
	pub const RETURN: u8 = 0xf3;
	pub const DELEGATECALL: u8 = 0xf4;
	pub const STATICCALL: u8 = 0xfa;
	pub const REVERT: u8 = 0xfd;
}

/// The forwarder's runtime code: copy the calldata, call `target` with it and all gas
/// left, then return the callee's output, or revert with it when the callee failed.
pub fn forwarder_code(kind: CallKind, target: H160) -> Vec<u8> {
	use op::*;
	let mut code = vec![
		// memory[0..] = calldata
		CALLDATASIZE,
		PUSH1,
		0,
		PUSH1,
		0,
		CALLDATACOPY,
		// retSize, retOffset (the output is copied below), argsSize, argsOffset
		PUSH1,
		0,
		PUSH1,
		0,
		CALLDATASIZE,
		PUSH1,
		0,
	];
	if kind == CallKind::Call {
		code.push(CALLVALUE);
	}
	code.push(PUSH20);
	code.extend_from_slice(target.as_bytes());
	code.push(GAS);
	code.push(match kind {
		CallKind::Call => CALL,
		CallKind::StaticCall => STATICCALL,
		CallKind::DelegateCall => DELEGATECALL,
	});
	// memory[0..] = returndata; the call's success flag stays on the stack.
	code.extend_from_slice(&[RETURNDATASIZE, PUSH1, 0, PUSH1, 0, RETURNDATACOPY]);
	// Jump over the revert (PUSH1 x, JUMPI, then 4 bytes) when the call succeeded.
	let success = code.len() + 7;
	code.extend_from_slice(&[PUSH1, success as u8, JUMPI]);
	code.extend_from_slice(&[RETURNDATASIZE, PUSH1, 0, REVERT]);
	code.extend_from_slice(&[JUMPDEST, RETURNDATASIZE, PUSH1, 0, RETURN]);
	code
}

/// Init code that deploys `runtime`: copy it out of the init code and return it.
pub fn deployable(runtime: &[u8]) -> Vec<u8> {
	use op::*;
	const PREFIX_LEN: u8 = 11;
	let len = u8::try_from(runtime.len()).expect("a forwarder is under 256 bytes");
	let mut code = vec![PUSH1, len, DUP1, PUSH1, PREFIX_LEN, PUSH1, 0, CODECOPY, PUSH1, 0, RETURN];
	debug_assert_eq!(code.len(), usize::from(PREFIX_LEN));
	code.extend_from_slice(runtime);
	code
}

/// Deploys, from `deployer`, a forwarder to `target` (see [`forwarder_code`]) holding
/// `value` wei, and returns its address. Calling it with a precompile's calldata calls the
/// precompile from a contract, in the context `kind` gives.
#[track_caller]
pub fn deploy_forwarder<T: Config>(
	deployer: &T::AccountId,
	kind: CallKind,
	target: impl Into<H160>,
	value: U256,
) -> H160 {
	let result = Pallet::<T>::bare_instantiate(
		RawOrigin::Signed(deployer.clone()).into(),
		value,
		limits::<T>(),
		Code::Upload(deployable(&forwarder_code(kind, target.into()))),
		Vec::new(),
		None,
		&ExecConfig::new_substrate_tx(),
	)
	.result
	.expect("the forwarder deploys");
	assert!(!result.result.did_revert(), "the forwarder's constructor reverted");
	result.addr
}

/// Implements `frame_system`, `pallet_balances` and `pallet_revive` for a precompile's test
/// runtime as Citrate's runtime configures them: 32-byte accounts (`AccountId32`) mapped to
/// Ethereum addresses by `AccountId32Mapper`, `u128` balances, one wei per planck, and
/// `$precompiles` as the runtime's precompiles. The runtime must be declared with
/// `construct_runtime!` holding `System`, `Balances` and `Revive`, with `Block`, `Balance`,
/// `derive_impl` and the pallets `frame_system`, `pallet_balances` and `pallet_revive` in scope
/// (`derive_impl` finds the preludes by those names). `existential_deposit` defaults to the
/// balances test prelude's.
#[macro_export]
macro_rules! impl_revive_test_runtime {
	($runtime:ident, precompiles = $precompiles:ty $(, existential_deposit = $ed:ty)? $(,)?) => {
		#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
		impl frame_system::Config for $runtime {
			type Block = Block;
			type AccountId = polkadot_sdk::sp_runtime::AccountId32;
			type Lookup =
				polkadot_sdk::sp_runtime::traits::IdentityLookup<polkadot_sdk::sp_runtime::AccountId32>;
			type AccountData = polkadot_sdk::pallet_balances::AccountData<Balance>;
		}

		#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
		impl pallet_balances::Config for $runtime {
			type Balance = Balance;
			type AccountStore = System;
			type RuntimeHoldReason = RuntimeHoldReason;
			// pallet-revive freezes balances too.
			type RuntimeFreezeReason = RuntimeFreezeReason;
			type FreezeIdentifier = RuntimeFreezeReason;
			type MaxFreezes = polkadot_sdk::frame_support::traits::VariantCountOf<RuntimeFreezeReason>;
			$(type ExistentialDeposit = $ed;)?
		}

		#[derive_impl(pallet_revive::config_preludes::TestDefaultConfig)]
		impl pallet_revive::Config for $runtime {
			type AddressMapper = polkadot_sdk::pallet_revive::AccountId32Mapper<Self>;
			type Balance = Balance;
			type Currency = Balances;
			type Precompiles = $precompiles;
			// As in the runtime: CTR has 18 decimals, so value in wei is value in planck.
			type NativeToEthRatio = polkadot_sdk::frame_support::traits::ConstU32<1>;
			type UploadOrigin =
				polkadot_sdk::frame_system::EnsureSigned<polkadot_sdk::sp_runtime::AccountId32>;
			type InstantiateOrigin =
				polkadot_sdk::frame_system::EnsureSigned<polkadot_sdk::sp_runtime::AccountId32>;
		}
	};
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn forwarders_jump_to_their_jumpdest() {
		for kind in [CallKind::Call, CallKind::StaticCall, CallKind::DelegateCall] {
			let code = forwarder_code(kind, H160::repeat_byte(0xAB));
			let jumpi = code.iter().position(|b| *b == op::JUMPI).unwrap();
			let target = usize::from(code[jumpi - 1]);
			assert_eq!(code[target], op::JUMPDEST, "{kind:?}");
			assert_eq!(code.last(), Some(&op::RETURN));
		}
	}

	#[test]
	fn init_code_returns_the_runtime_after_its_prefix() {
		let runtime = forwarder_code(CallKind::StaticCall, H160::repeat_byte(1));
		let init = deployable(&runtime);
		assert_eq!(usize::from(init[1]), runtime.len());
		assert_eq!(usize::from(init[4]), init.len() - runtime.len());
		assert_eq!(&init[init.len() - runtime.len()..], &runtime[..]);
	}

	#[test]
	fn reverts_and_panics_decode_from_their_abi() {
		let revert = Revert { reason: "no".into() }.abi_encode();
		assert_eq!(Outcome::from_output(true, revert), Outcome::revert("no"));
		let panic = Panic { code: 0x41u8.try_into().unwrap() }.abi_encode();
		assert_eq!(Outcome::from_output(true, panic), Outcome::Panic(0x41));
		assert_eq!(Outcome::from_output(true, vec![1, 2]), Outcome::RevertData(vec![1, 2]));
		assert_eq!(Outcome::from_output(false, vec![7]), Outcome::Success(vec![7]));
		let trap = DispatchError::Other("out of gas");
		assert_eq!(Outcome::from_result(Err(trap)), Outcome::Trap(trap));
	}
}
