// Copyright 2024, Linaro Limited
// Author(s): Manos Pitsidianakis <manos.pitsidianakis@linaro.org>
// SPDX-License-Identifier: GPL-2.0-or-later

//! Device registers exposed as typed structs which are backed by arbitrary
//! integer bitmaps (after QEMU v10.0.2, trimmed to their layout).

use bilge::prelude::*;
use qemu_api::impl_vmstate_bitsized;

/// Receive Status Register / Data Register common error bits
#[bitsize(8)]
#[derive(Clone, Copy, Default, DebugBits, FromBits)]
pub struct Errors {
    pub framing_error: bool,
    pub parity_error: bool,
    pub break_error: bool,
    pub overrun_error: bool,
    _reserved_unpredictable: u4,
}

/// Data Register, `UARTDR`
#[bitsize(32)]
#[derive(Clone, Copy, Default, DebugBits, FromBits)]
#[doc(alias = "UARTDR")]
pub struct Data {
    pub data: u8,
    pub errors: Errors,
    _reserved: u16,
}
impl_vmstate_bitsized!(Data);

/// Receive Status Register / Error Clear Register, `UARTRSR/UARTECR`
#[bitsize(32)]
#[derive(Clone, Copy, DebugBits, FromBits)]
pub struct ReceiveStatusErrorClear {
    pub errors: Errors,
    _reserved_unpredictable: u24,
}
impl_vmstate_bitsized!(ReceiveStatusErrorClear);

#[bitsize(32)]
#[derive(Clone, Copy, DebugBits, FromBits)]
/// Flag Register, `UARTFR`
#[doc(alias = "UARTFR")]
pub struct Flags {
    pub clear_to_send: bool,
    pub data_set_ready: bool,
    pub data_carrier_detect: bool,
    pub busy: bool,
    pub receive_fifo_empty: bool,
    pub transmit_fifo_full: bool,
    pub receive_fifo_full: bool,
    pub transmit_fifo_empty: bool,
    pub ring_indicator: bool,
    _reserved_zero_no_modify: u23,
}
impl_vmstate_bitsized!(Flags);

#[bitsize(32)]
#[derive(Clone, Copy, DebugBits, FromBits)]
/// Line Control Register, `UARTLCR_H`
#[doc(alias = "UARTLCR_H")]
pub struct LineControl {
    pub send_break: bool,
    pub parity_enabled: bool,
    pub parity: bool,
    pub two_stops_bits: bool,
    pub fifos_enabled: bool,
    pub word_length: u2,
    pub sticky_parity: bool,
    _reserved_zero_no_modify: u24,
}
impl_vmstate_bitsized!(LineControl);

/// Control Register, `UARTCR`
#[bitsize(32)]
#[doc(alias = "UARTCR")]
#[derive(Clone, Copy, DebugBits, FromBits)]
pub struct Control {
    pub enable_uart: bool,
    pub enable_sir: bool,
    pub sir_lowpower_irda_mode: u1,
    _reserved_zero_no_modify: u4,
    pub enable_loopback: bool,
    pub enable_transmit: bool,
    pub enable_receive: bool,
    pub data_transmit_ready: bool,
    pub request_to_send: bool,
    pub out_1: bool,
    pub out_2: bool,
    pub rts_hardware_flow_control_enable: bool,
    pub cts_hardware_flow_control_enable: bool,
    _reserved_zero_no_modify2: u16,
}
impl_vmstate_bitsized!(Control);
