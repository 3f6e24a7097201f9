"""Handing a conversation to a human helpline worker: cases, the queue, the console."""
