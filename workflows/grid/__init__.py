"""The grid worker's phone: reports from one's grid, one's reports with their status, follow-up
visits (``reports``)."""
