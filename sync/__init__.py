"""RoadWatch sync protocol: the wire format (schemas) shared by server and clients.

See sync/PROTOCOL.md for the protocol as a document.
"""

PROTOCOL_VERSION = "1"
