"""Reports for a helpline lead and admins: what the service did, in numbers, never in words."""
