#!/usr/bin/env python3
"""Get or set TSO/GSO/GRO on an interface through the legacy ethtool ioctls,
for machines without the ethtool program.

  offload.py lo get          prints "tso gso gro" as 0/1 values
  offload.py lo set 0 0 0    sets them (needs CAP_NET_ADMIN)
"""
import ctypes
import fcntl
import socket
import struct
import sys

SIOCETHTOOL = 0x8946
# include/uapi/linux/ethtool.h
GET = {"tso": 0x1E, "gso": 0x23, "gro": 0x2B}
SET = {"tso": 0x1F, "gso": 0x24, "gro": 0x2C}
ORDER = ("tso", "gso", "gro")


def call(sock, ifname, cmd, data=0):
    val = ctypes.create_string_buffer(struct.pack("II", cmd, data))
    ifreq = struct.pack("16sP", ifname.encode(), ctypes.addressof(val))
    ifreq += b"\0" * (40 - len(ifreq))
    fcntl.ioctl(sock.fileno(), SIOCETHTOOL, ifreq)
    return struct.unpack("II", val.raw[:8])[1]


def main():
    ifname, op = sys.argv[1], sys.argv[2]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        if op == "get":
            print(" ".join(str(call(s, ifname, GET[k])) for k in ORDER))
        elif op == "set":
            for k, v in zip(ORDER, sys.argv[3:6]):
                call(s, ifname, SET[k], int(v))
        else:
            sys.exit("usage: offload.py IFACE get|set TSO GSO GRO")


if __name__ == "__main__":
    main()
