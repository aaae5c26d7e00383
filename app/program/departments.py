"""The departments of the province Front office that lead the province's tasks.

Section III of the 2023 program gives the work to these three; a task added to the province's
plan picks its lead among them (a district's plan names its own lead freely).
"""
MOVEMENTS = "Ban Phong trào"
DEMOCRACY_LAW = "Ban Dân chủ - Pháp luật"
OFFICE = "Văn phòng"
DEPARTMENTS = (MOVEMENTS, DEMOCRACY_LAW, OFFICE)
