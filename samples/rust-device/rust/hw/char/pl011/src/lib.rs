// Copyright 2024, Linaro Limited
// Author(s): Manos Pitsidianakis <manos.pitsidianakis@linaro.org>
// SPDX-License-Identifier: GPL-2.0-or-later

//! PL011 QEMU Device Model (after QEMU v10.0.2's rust/hw/char/pl011, trimmed to the
//! migration state and QOM types; the pl011/clock subsection is left out, as in
//! hw/char/pl011.c beside it).

use qemu_api::c_str;

mod device;
mod device_class;
mod registers;

pub const TYPE_PL011: &::std::ffi::CStr = c_str!("pl011");
pub const TYPE_PL011_LUMINARY: &::std::ffi::CStr = c_str!("pl011_luminary");
