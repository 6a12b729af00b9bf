Attribute VB_Name = "JifenTownship"
' The buttons of the jifen-xl township workbook: each Sub runs one function of jifen_xl.macros, no logic here.
Option Explicit

Sub JifenTownshipImport()
    RunPython "import jifen_xl.macros as m; m.township_import()"
End Sub
