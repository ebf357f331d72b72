"""The run record: run folders, the audit chain, the history page, charts, notifications, the textfile."""
