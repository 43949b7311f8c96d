"""The console's trading dialogs: each states what will happen before the trader confirms.

``confirmations`` builds the texts of the yes/no questions (flatten all, re-arm) from the
engine's snapshot; ``basket_preview`` shows a manual basket the engine would open;
``thresholds`` edits a cluster's E and X.
"""
