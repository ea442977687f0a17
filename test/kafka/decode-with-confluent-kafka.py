"""Reads Kafka topics tickflow wrote, with clients tickflow did not write (test/kafka/interop-python.spec.ts).

Each message value in Confluent's wire format (00 + schema id + body) is decoded by confluent-kafka's
schema-registry AvroDeserializer, which fetches the writer schema by its id from the registry. Each value in Avro
single-object encoding (C3 01 + fingerprint + body) is decoded by fastavro with the schema file whose
CRC-64-AVRO fingerprint (of its Parsing Canonical Form, as fastavro computes it) the header names.

Argument: one JSON object {bootstrap, registry, topics, count, timeout_s, schema_files} (schema_files: the
schemas/*.avsc paths, every named type before its use). Prints one JSON line per message, then {"done": N}.
Timestamps (timestamp-micros), which both decoders give as datetimes, are printed as microseconds since the
epoch, so that the test compares them with what went in.
"""

import datetime
import io
import json
import sys
import time

import fastavro
from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro.schema import fingerprint, load_schema_ordered, to_parsing_canonical_form

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def as_json(value):
    if isinstance(value, datetime.datetime):
        return (value - EPOCH) // datetime.timedelta(microseconds=1)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot print {type(value)}")


def single_object_schemas(files):
    """Every record schema file by the hex of its fingerprint, each loaded with the files before it (its named types)."""
    by_fingerprint = {}
    for index, path in enumerate(files):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        if not isinstance(schema, dict) or schema.get("type") != "record":
            continue
        parsed = load_schema_ordered(files[: index + 1], _write_hint=False)
        print_name = f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")
        by_fingerprint[fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")] = (print_name, parsed)
    return by_fingerprint


def main():
    config = json.loads(sys.argv[1])
    registry = SchemaRegistryClient({"url": config["registry"]}) if config.get("registry") else None
    deserializer = AvroDeserializer(registry) if registry else None
    by_fingerprint = single_object_schemas(config.get("schema_files", []))
    consumer = Consumer(
        {
            "bootstrap.servers": config["bootstrap"],
            "group.id": f"tickflow-interop-{time.time_ns()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(config["topics"])
    seen = 0
    deadline = time.monotonic() + config["timeout_s"]
    try:
        while seen < config["count"] and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                raise RuntimeError(str(message.error()))
            raw = message.value()
            line = {
                "topic": message.topic(),
                "partition": message.partition(),
                "offset": message.offset(),
                "key": None if message.key() is None else message.key().decode("utf-8"),
            }
            if raw[:1] == b"\x00":
                schema_id = int.from_bytes(raw[1:5], "big")
                writer = json.loads(registry.get_schema(schema_id).schema_str)
                context = SerializationContext(message.topic(), MessageField.VALUE)
                line.update(
                    format="confluent",
                    schema_id=schema_id,
                    record=f"{writer.get('namespace', '')}.{writer['name']}".lstrip("."),
                    value=deserializer(raw, context),
                )
            elif raw[:2] == b"\xc3\x01":
                header = raw[2:10].hex()
                if header not in by_fingerprint:
                    raise RuntimeError(f"no schema file has fingerprint {header}; the files have {sorted(by_fingerprint)}")
                name, schema = by_fingerprint[header]
                body = io.BytesIO(raw[10:])
                value = fastavro.schemaless_reader(body, schema, None)
                if body.tell() != len(raw) - 10:
                    raise RuntimeError(f"{name}: {len(raw) - 10 - body.tell()} bytes left after the record")
                line.update(format="single-object", fingerprint=header, record=name, value=value)
            else:
                raise RuntimeError(f"value in neither framing: {raw[:10].hex()}")
            print(json.dumps(line, default=as_json), flush=True)
            seen += 1
    finally:
        consumer.close()
    print(json.dumps({"done": seen}), flush=True)


if __name__ == "__main__":
    main()
