"""One training layout end to end: memory per GPU, step time, MFU, days and dollars, with the derivation."""

from __future__ import annotations

from dataclasses import dataclass

from .arch import ModelArch
from .derivation import Step, num
from .errors import OptionError
from .hardware import GPU
from .parallel import FRAMEWORK_RESERVE_BYTES, GRADIENT_REDUCE_BYTES, Layout, ModelShape, check_layout, layout_memory_arrays, model_shape
from .steptime import step_time_arrays
from .training import SECONDS_PER_DAY, TrainingBill, training_bill
from .units import format_bytes, format_duration, format_flop, format_usd

__all__ = ["LayoutEstimate", "estimate_layout", "layout_training_bill"]

_MEMORY_KEYS = ("weights", "gradients", "optimizer", "activations", "gathered_weights", "communication_buffers", "framework_reserve")
_TIME_KEYS = ("compute", "bubble_time", "exposed_communication", "tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm")


@dataclass(frozen=True)
class LayoutEstimate:
    """Memory per GPU, step time and the bill of one layout; byte, second and FLOP figures per step."""

    layout: Layout
    gpu: GPU
    tokens: float
    usd_per_gpu_hour: float
    memory_bytes: dict[str, float]
    time_s: dict[str, float]
    memory_per_gpu_bytes: float
    step_time_s: float
    tokens_per_s: float
    mfu: float
    hfu: float
    model_flop_per_step: float
    hardware_flop_per_step: float
    bubble_fraction: float
    communication_s_per_step: float
    rate_source: str
    steps: tuple[Step, ...]

    @property
    def fits(self) -> bool:
        return self.memory_per_gpu_bytes <= self.gpu.hbm_bytes

    @property
    def wall_clock_s(self) -> float:
        return self.tokens / self.tokens_per_s

    @property
    def gpu_hours(self) -> float:
        return self.layout.gpus * self.wall_clock_s / 3600

    @property
    def cost_usd(self) -> float:
        return self.gpu_hours * self.usd_per_gpu_hour

    def to_dict(self) -> dict[str, object]:
        layout = self.layout
        return {
            "tp": layout.tp, "pp": layout.pp, "dp": layout.dp, "ep": layout.ep, "cp": layout.cp, "zero": layout.zero,
            "micro_batch": layout.micro_batch, "global_batch": layout.global_batch, "seq": layout.seq,
            "recompute": layout.recompute, "interleave": layout.interleave, "gpus": layout.gpus,
            "micro_batches": layout.micro_batches,
            "memory_per_gpu_bytes": self.memory_per_gpu_bytes,
            "memory_parts_bytes": self.memory_bytes,
            "hbm_bytes": self.gpu.hbm_bytes,
            "fits": self.fits,
            "step_time_s": self.step_time_s,
            "step_time_parts_s": self.time_s,
            "tokens_per_s": self.tokens_per_s,
            "mfu": self.mfu,
            "hfu": self.hfu,
            "model_flop_per_step": self.model_flop_per_step,
            "hardware_flop_per_step": self.hardware_flop_per_step,
            "bubble_fraction": self.bubble_fraction,
            "communication_s_per_step": self.communication_s_per_step,
            "rate_source": self.rate_source,
            "layout_wall_clock_s": self.wall_clock_s,
            "layout_wall_clock_days": self.wall_clock_s / SECONDS_PER_DAY,
            "layout_gpu_hours": self.gpu_hours,
            "layout_cost_usd": self.cost_usd,
        }


def check_tokens_fill_a_step(tokens: float, batch_tokens: int) -> None:
    """Reject a run shorter than one optimizer step, whose wall-clock would be less than its step time."""
    if tokens < batch_tokens:
        raise OptionError(
            f"--tokens {tokens:,.0f} is fewer than the {batch_tokens:,} tokens of one optimizer step (--global-batch): "
            f"raise --tokens to at least {batch_tokens:,}, or lower --global-batch"
        )


def estimate_layout(
    arch: ModelArch,
    gpu: GPU,
    layout: Layout,
    tokens: float,
    usd_per_gpu_hour: float,
    mfu: float | None = None,
    achieved_flop_per_s: float | None = None,
    shape: ModelShape | None = None,
) -> LayoutEstimate:
    """Return memory per GPU, step time, MFU, HFU and the bill of `layout` training on `tokens` tokens.

    Without `mfu` or `achieved_flop_per_s` the step time is modelled (see `napkin.steptime`).
    """
    check_tokens_fill_a_step(tokens, layout.global_batch * layout.seq)
    if mfu is not None and achieved_flop_per_s is not None:
        raise OptionError("--mfu and --achieved-tflops both set the step time: give one of them")
    if achieved_flop_per_s is not None and not 0 < achieved_flop_per_s <= gpu.bf16_flop_per_s * 1.0001:
        raise OptionError(
            f"invalid achieved rate {achieved_flop_per_s / 1e12:g} TFLOP/s: must be above 0 and at most {gpu.name}'s peak of "
            f"{gpu.bf16_flop_per_s / 1e12:g} TFLOP/s"
        )
    shape = shape or model_shape(arch)
    check_layout(shape, layout)
    grid = layout.arrays()
    memory = {key: float(value[0]) for key, value in layout_memory_arrays(shape, grid, layout.seq, layout.global_batch, layout.optimizer, layout.attention_kernel).items()}
    timing = {key: float(value[0]) for key, value in step_time_arrays(shape, gpu, grid, layout.seq, layout.global_batch, mfu, achieved_flop_per_s).items()}
    if mfu is not None:
        rate_source = f"MFU {mfu:.1%} as given"
    elif achieved_flop_per_s is not None:
        rate_source = f"{achieved_flop_per_s / 1e12:g} TFLOP/s per GPU as given"
    else:
        rate_source = f"modelled: compute at {timing['efficiency']:.0%} of peak, bubble and exposed communication added"

    fmt = format_bytes
    m, p = layout.micro_batches, layout.pp
    steps = [
        Step("GPUs", "tp · cp · dp · pp", f"{layout.tp} · {layout.cp} · {layout.dp} · {layout.pp}", f"{layout.gpus:,}"),
        Step("micro-batches per step", "global batch ÷ (dp · micro-batch)", f"{layout.global_batch:,} ÷ ({layout.dp} · {layout.micro_batch})", f"{m:,}"),
        Step("weights + gradients + optimizer", "params per GPU · bytes/param, ZeRO-sharded over dp · cp", f"{num(memory['params_per_gpu'])} params",
             fmt(memory["weights"] + memory["gradients"] + memory["optimizer"])),
        Step("activations", "micro-batches in flight · layers per stage · bytes per layer (+ logits on the last stage)",
             f"in flight ≤ min(m, p) = {min(m, p)}", fmt(memory["activations"])),
        Step("ZeRO-3 gathered weights", "2 · largest block ÷ tp · 2 bytes", "", fmt(memory["gathered_weights"])),
        Step("gradient bucket", f"max(4e7, 1e6 · dp · cp) params · {GRADIENT_REDUCE_BYTES} bytes", "", fmt(memory["communication_buffers"])),
        Step("framework reserve", "CUDA context, workspaces, fragmentation (editable default)", "", fmt(FRAMEWORK_RESERVE_BYTES)),
        Step("memory per GPU", "sum of the parts", "", f"{fmt(memory['total'])} of {fmt(gpu.hbm_bytes)}"),
        Step("model FLOPs per step", "global batch · seq · 3 · forward FLOPs/token", "", format_flop(timing["model_flop"])),
        Step("hardware FLOPs per step", "model FLOPs + recomputed forward", f"recompute {layout.recompute}", format_flop(timing["hardware_flop"])),
        Step("compute", "hardware FLOPs ÷ (GPUs · peak · efficiency)", f"efficiency {timing['efficiency']:.3g}", f"{num(timing['compute'])} s"),
        Step("pipeline bubble", "(p − 1) ÷ (v · m + p − 1)", f"({p} − 1) ÷ ({layout.interleave} · {m} + {p} − 1)", f"{timing['bubble_fraction']:.1%}"),
        Step("communication per step", "tp + cp + ep + pp + dp volumes ÷ link bandwidth",
             " + ".join(f"{num(timing[k])}" for k in ("tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm")), f"{num(timing['communication'])} s"),
        Step("exposed communication", "what does not overlap compute", "", f"{num(timing['exposed_communication'])} s"),
        Step("step time", "model FLOPs ÷ (GPUs · peak · MFU)" if mfu is not None else (
            "hardware FLOPs ÷ (GPUs · achieved FLOP/s)" if achieved_flop_per_s is not None else "compute ÷ (1 − bubble) + exposed communication"),
             "", f"{num(timing['step_time'])} s"),
        Step("MFU", "model FLOPs ÷ (GPUs · peak · step time)", "", f"{timing['mfu']:.1%}"),
        Step("HFU", "hardware FLOPs ÷ (GPUs · peak · step time)", "", f"{timing['hfu']:.1%}"),
    ]
    seconds = tokens / timing["tokens_per_s"]
    gpu_hours = layout.gpus * seconds / 3600
    steps += [
        Step("wall-clock", "tokens ÷ tokens/s", f"{num(tokens)} ÷ {num(timing['tokens_per_s'])}", format_duration(seconds)),
        Step("cost", "GPUs · hours · $/GPU-hour", f"{layout.gpus:,} · {num(seconds / 3600)} · {num(usd_per_gpu_hour)}", format_usd(gpu_hours * usd_per_gpu_hour)),
    ]
    return LayoutEstimate(
        layout=layout,
        gpu=gpu,
        tokens=tokens,
        usd_per_gpu_hour=usd_per_gpu_hour,
        memory_bytes={key: memory[key] for key in _MEMORY_KEYS},
        time_s={key: timing[key] for key in _TIME_KEYS},
        memory_per_gpu_bytes=memory["total"],
        step_time_s=timing["step_time"],
        tokens_per_s=timing["tokens_per_s"],
        mfu=timing["mfu"],
        hfu=timing["hfu"],
        model_flop_per_step=timing["model_flop"],
        hardware_flop_per_step=timing["hardware_flop"],
        bubble_fraction=timing["bubble_fraction"],
        communication_s_per_step=timing["communication"],
        rate_source=rate_source,
        steps=tuple(steps),
    )


def layout_training_bill(arch: ModelArch, estimate: LayoutEstimate) -> TrainingBill:
    """Return the training bill at the layout's MFU, counting model FLOPs per token as the layout's step does.

    Model FLOPs per token are the step's model FLOPs ÷ (global batch · seq), which includes the
    attention at the layout's sequence length.
    """
    from .params import count_params

    layout = estimate.layout
    per_token = estimate.model_flop_per_step / (layout.global_batch * layout.seq)
    return training_bill(
        count_params(arch).active, estimate.tokens, layout.gpus, estimate.gpu.bf16_flop_per_s, estimate.mfu,
        estimate.usd_per_gpu_hour, per_token, f"3 · forward FLOPs/token at s = {layout.seq:,}",
    )
