"""A sender for text messages that writes each one to the log and reports it sent: for development and trials,
loaded only when ``MESSAGE_LOG_SENDER`` is on. A clinic sends real texts through a gateway plugin instead."""

import logging

from clinicadmin.plugin_api import MessageChannel, hookimpl

log = logging.getLogger(__name__)
LABEL = "Text messages written to the log"


@hookimpl
def register_message_channels():
    return [MessageChannel("sms", "Text message (SMS)", address="phone")]


@hookimpl
def send_message(channel, recipient, subject, text, message_id):
    if channel != "sms":
        return None
    log.info("text message %s to %s: %s", message_id, recipient, text)
    return True
