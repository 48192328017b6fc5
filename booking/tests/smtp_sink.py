"""A real SMTP server for booking's outbox test (aiosmtpd).

    python3 smtp_sink.py PORT DIR

Listens on 127.0.0.1:PORT and, for each message, writes DIR/N.json: the envelope recipients and
every text/calendar part decoded, with its Content-Type header. Each file is written beside and
then renamed, so the test never reads half of one. Prints "ready" once it accepts connections.
"""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class SaveToDir:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        calendars = []
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                calendars.append(
                    {"content_type": str(part["Content-Type"]), "text": part.get_content()}
                )
        self.count += 1
        path = os.path.join(self.directory, f"{self.count}.json")
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "calendars": calendars,
        }
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


async def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    controller = Controller(SaveToDir(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
