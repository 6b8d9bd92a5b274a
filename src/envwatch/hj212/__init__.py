"""HJ 212 codec (HJ/T 212-2005, HJ 212-2017, HJ 212-2025), sans-IO.

Layers, bottom up:

* ``crc``: the standard's CRC.
* ``framing``: ``FrameReader`` cuts frames out of a byte stream.
* ``segment``: ``parse_segment``/``encode_segment`` and the text-level ``Packet``.
* ``decoder``: ``Decoder`` (bytes in, ``DecodedFrame``/``ProtocolError`` out),
  ``decode_frame`` and ``encode_packet``.
* ``model``: typed messages, ``interpret`` and ``to_packet``.
* ``reassembly``: ``SegmentAssembler`` for segmented uploads.
* ``replies``: ``platform_replies`` and ``device_replies``.
* ``codes``: versions, Flag bits, ST, CN, data flags, return codes.
"""

from envwatch.hj212.codes import DataFlag, ProtocolVersion
from envwatch.hj212.crc import crc16, crc_text
from envwatch.hj212.decoder import DecodedFrame, Decoder, decode_frame, encode_packet
from envwatch.hj212.errors import Deviation, DeviationCode, ErrorCode, ProtocolError
from envwatch.hj212.framing import FrameReader, RawFrame, frame_segment
from envwatch.hj212.model import Message, interpret, to_packet
from envwatch.hj212.options import DecodeOptions
from envwatch.hj212.reassembly import Reassembled, SegmentAssembler
from envwatch.hj212.replies import device_replies, execution_result, platform_replies
from envwatch.hj212.segment import Packet, encode_segment, parse_segment

__all__ = [
    "DataFlag",
    "DecodeOptions",
    "DecodedFrame",
    "Decoder",
    "Deviation",
    "DeviationCode",
    "ErrorCode",
    "FrameReader",
    "Message",
    "Packet",
    "ProtocolError",
    "ProtocolVersion",
    "RawFrame",
    "Reassembled",
    "SegmentAssembler",
    "crc16",
    "crc_text",
    "decode_frame",
    "device_replies",
    "encode_packet",
    "encode_segment",
    "execution_result",
    "frame_segment",
    "interpret",
    "parse_segment",
    "platform_replies",
    "to_packet",
]
