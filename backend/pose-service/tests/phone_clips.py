"""Phone-style clips made by ffmpeg from a real person photo, each with an upright twin to compare against.

The upright scene U: scikit-image's astronaut photo (a real person), cropped portrait, panning slightly;
the 4K60 clip uses the cameraman photo (a standing man) scaled up.
Each clip stores U transformed the way a phone stores it (rotated, mirrored, another codec) and says how
it should display; its twin is the same clip turned upright physically by ffmpeg.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import cv2

FPS = 30
FRAMES = 12
UPRIGHT_VF = "crop=400:512:x='40+16*sin(n/6)':y=0,scale=300:384"
DISPLAY = (300, 384)
# FFmpeg display matrices (16.16 fixed point, row-major 3x3) written with PyAV, for what ffmpeg 5.1's
# -metadata rotate cannot express.
IDENTITY_MATRIX = [65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]
HFLIP_MATRIX = [-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30]
TRANSPOSE_MATRIX = [0, 65536, 0, 65536, 0, 0, 0, 0, 1 << 30]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
# Twins are re-encoded near-losslessly so the comparison measures orientation, not compression.
TWIN_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-crf", "8", "-pix_fmt", "yuv420p"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def person_png(folder: Path, photo: str = "astronaut") -> Path:
    import skimage.data

    path = folder / f"{photo}.png"
    if not path.exists():
        rgb = getattr(skimage.data, photo)()
        cv2.imwrite(str(path), rgb if rgb.ndim == 2 else cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def encode(folder: Path, name: str, vf: str, codec: list[str], frames: int = FRAMES, fps: int = FPS,
           extra_in: list[str] | None = None) -> Path:  # fmt: skip
    """The upright scene through `vf` (after the upright crop) and an encoder."""
    out = folder / name
    ffmpeg("-loop", "1", "-framerate", str(fps), *(extra_in or []), "-i", str(person_png(folder)),
           "-frames:v", str(frames), "-vf", f"{UPRIGHT_VF},{vf}" if vf else UPRIGHT_VF, *codec, str(out))  # fmt: skip
    return out


def with_matrix(src: Path, dst: Path, matrix: list[int]) -> Path:
    """Remux (no re-encode) with a display matrix, as a phone's muxer writes it."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        ist = inp.streams.video[0]
        ost = out.add_stream_from_template(ist)
        ost.set_display_matrix(matrix)
        for packet in inp.demux(ist):
            if packet.dts is None:
                continue
            packet.stream = ost
            out.mux(packet)
    return dst


def twin(src: Path, dst: Path, vf: str | None = None) -> Path:
    """The clip turned upright physically: ffmpeg's own autorotate, or explicit filters where it cannot
    (ffmpeg 5.1 ignores mirror matrices, and with -noautorotate copies the matrix: reset it to identity)."""
    if vf is None:
        ffmpeg("-i", str(src), *TWIN_H264, str(dst))
        return dst
    encoded = dst.with_name("encoded-" + dst.name)
    ffmpeg("-noautorotate", "-i", str(src), "-vf", vf, *TWIN_H264, str(encoded))
    return with_matrix(encoded, dst, IDENTITY_MATRIX)



@dataclass
class PhoneClip:
    name: str
    path: Path
    twin: Path
    display: tuple[int, int]
    rotation: int
    mirrored: bool
    codec: str


def make_clips(folder: Path) -> dict[str, PhoneClip]:
    """Every kind of phone footage the issue lists (4K60 separately: it is slow), built in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    clips: dict[str, PhoneClip] = {}

    def add(name: str, path: Path, tw: Path | None, rotation: int, mirrored: bool, codec: str) -> None:
        tw = tw or twin(path, folder / f"{name}-twin.mp4")
        clips[name] = PhoneClip(name, path, tw, DISPLAY, rotation, mirrored, codec)

    # Portrait phone clips: stored landscape, a rotate tag says how to show them. ffmpeg 5.1's rotate=N
    # tag turns the picture N degrees counterclockwise for display, i.e. clockwise 360-N.
    stored = encode(folder, "stored-ccw.mp4", "transpose=cclock", H264)
    ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=270", str(folder / "rot90.mp4"))
    add("rot90", folder / "rot90.mp4", twin(folder / "rot90.mp4", folder / "rot90-twin.mp4"), 90, False, "h264")
    # This one with B-frames (reordered pts, an MP4 edit list), as most phone encoders write.
    stored = encode(folder, "stored-cw.mp4", "transpose=clock", [*H264, "-bf", "2", "-g", "8"])
    ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=90", str(folder / "rot270.mp4"))
    add("rot270", folder / "rot270.mp4", twin(folder / "rot270.mp4", folder / "rot270-twin.mp4"), 270, False, "h264")
    # Front camera: the stored picture is mirrored and the matrix flips it back.
    stored = encode(folder, "stored-hflip.mp4", "hflip", H264)
    mirrored = with_matrix(stored, folder / "mirrored.mp4", HFLIP_MATRIX)
    add("mirrored", mirrored, twin(mirrored, folder / "mirrored-twin.mp4", "hflip"), 0, True, "h264")
    stored = encode(folder, "stored-transpose.mp4", "transpose=cclock_flip", H264)
    selfie = with_matrix(stored, folder / "selfie-portrait.mp4", TRANSPOSE_MATRIX)
    add("selfie-portrait", selfie, twin(selfie, folder / "selfie-twin.mp4", "transpose=cclock_flip"), 90, True, "h264")
    # iPhone-style HEVC 10-bit .mov (hvc1), portrait.
    x265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1"]
    stored = encode(folder, "stored-hevc.mov", "transpose=cclock,format=yuv420p10le", x265)
    ffmpeg("-i", str(stored), "-c", "copy", "-metadata:s:v:0", "rotate=270", "-tag:v", "hvc1",
           str(folder / "iphone-hevc10.mov"))  # fmt: skip
    add("hevc10-mov", folder / "iphone-hevc10.mov", twin(folder / "iphone-hevc10.mov", folder / "hevc-twin.mp4"),
        90, False, "hevc")  # fmt: skip
    add("hevc8-mov", encode(folder, "hevc8.mov", "format=yuv420p", x265), None, 0, False, "hevc")
    vp9 = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"]
    add("vp9-webm", encode(folder, "clip-vp9.webm", "format=yuv420p", vp9), None, 0, False, "vp9")
    aom = ["-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-crf", "35", "-b:v", "0"]
    add("av1-webm", encode(folder, "clip-av1.webm", "format=yuv420p", aom), None, 0, False, "av1")
    add("mp4v", encode(folder, "clip-mp4v.mp4", "format=yuv420p", ["-c:v", "mpeg4", "-q:v", "3"]),
        None, 0, False, "mpeg4")  # fmt: skip
    add("prores-mov", encode(folder, "clip-prores.mov", "format=yuv422p10le", ["-c:v", "prores_ks", "-profile:v", "0"]),
        None, 0, False, "prores")  # fmt: skip
    return clips


# Known uneven frame times of the VFR clip: 30 fps with every third frame late by 11 ms, then a 15 fps stretch.
def vfr_times() -> list[float]:
    times = [i / 30 + 0.011 * (i % 3) for i in range(9)]
    times += [times[-1] + (k + 1) / 15 for k in range(6)]
    return [round(t * 90000) / 90000 for t in times]


def make_vfr(folder: Path) -> Path:
    """H.264 at the vfr_times() presentation times (90 kHz clock, so they are exact)."""
    times = vfr_times()
    expr = "+".join(f"eq(N\\,{i})*{round(t * 90000)}" for i, t in enumerate(times))
    out = folder / "vfr.mp4"
    ffmpeg("-loop", "1", "-framerate", "30", "-i", str(person_png(folder)), "-frames:v", str(len(times)),
           "-vf", f"{UPRIGHT_VF},settb=1/90000,setpts={expr}", "-fps_mode", "passthrough",
           "-enc_time_base", "1/90000", "-video_track_timescale", "90000", *H264, str(out))  # fmt: skip
    return out


def make_4k60(folder: Path, seconds: float = 1.0) -> Path:
    """A 3840×2160 60 fps H.264 clip of the cameraman (the photo scaled up and pillarboxed)."""
    out = folder / "clip-4k60.mp4"
    photo = str(person_png(folder, "camera"))
    ffmpeg("-loop", "1", "-framerate", "60", "-i", photo, "-frames:v", str(round(60 * seconds)),
           "-vf", "scale=2160:2160,pad=3840:2160:(ow-iw)/2:0,format=yuv420p", "-c:v", "libx264",
           "-preset", "ultrafast", str(out))  # fmt: skip
    return out


def ffprobe_frame_times(path: Path) -> list[float]:
    """Presentation times of the decoded frames, as ffprobe -show_frames reports them, from the first."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=best_effort_timestamp_time",
         "-of", "json", str(path)], check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    t = [float(f["best_effort_timestamp_time"]) for f in json.loads(out)["frames"]]
    return [x - t[0] for x in t]


def ffprobe_stream(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-of", "json",
                          str(path)], check=True, capture_output=True, text=True).stdout  # fmt: skip
    return json.loads(out)["streams"][0]


def top_level_boxes(path: Path) -> list[str]:
    """The ISO-BMFF top-level box types in file order (to check moov comes before mdat)."""
    boxes = []
    with open(path, "rb") as fh:
        while True:
            head = fh.read(8)
            if len(head) < 8:
                break
            size, kind = int.from_bytes(head[:4], "big"), head[4:8].decode("latin1")
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(size - 16, 1)
            elif size == 0:
                boxes.append(kind)
                break
            else:
                fh.seek(size - 8, 1)
            boxes.append(kind)
    return boxes
