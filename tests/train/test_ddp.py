"""Two CPU processes (gloo), launched the way torchrun launches them, end with identical weights."""

import os
import socket

import torch
import torch.multiprocessing as mp

from tests.gan_fixtures import note_folder  # noqa: F401  (fixture)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, data: str, out: str, cache: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(port))
    torch.set_num_threads(1)
    from safetensors.torch import save_file

    from ganaudio.train import distributed as dist_utils
    from tests.train.helpers import trainer

    info = dist_utils.init_distributed("cpu")
    try:
        tr = trainer(data, out, cache, checkpoint_every=100, dist=info)
        first = tr._indices(0)
        tr.fit(3)
        weights = {f"{n}.{k}": v.contiguous() for n, m in tr.modules().items() for k, v in m.state_dict().items()}
        weights["first_batch"] = first
        save_file(weights, os.path.join(out, f"rank{rank}.safetensors"))
    finally:
        dist_utils.shutdown(info)


def test_two_processes_hold_identical_weights(note_folder, tmp_path):  # noqa: F811
    from safetensors.torch import load_file

    from tests.train.helpers import trainer

    cache, out = tmp_path / "cache", tmp_path / "run"
    trainer(note_folder, tmp_path / "warm", cache)         # build the feature cache once, before the workers
    out.mkdir()
    # fork, not spawn: each child would otherwise spend seconds importing torch again
    mp.start_processes(_worker, args=(2, _free_port(), str(note_folder), str(out), str(cache)), nprocs=2,
                       join=True, start_method="fork")
    w0, w1 = load_file(str(out / "rank0.safetensors")), load_file(str(out / "rank1.safetensors"))
    assert not torch.equal(w0.pop("first_batch"), w1.pop("first_batch"))   # each process saw other notes
    for key in w0:
        assert torch.equal(w0[key], w1[key]), key
    assert (out / "checkpoints" / "step_00000003").is_dir()                 # written once, by rank 0
