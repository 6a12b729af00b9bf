Attribute VB_Name = "JifenVillage"
' The buttons of the jifen-xl village workbook: each Sub runs one function of jifen_xl.macros, no logic here;
' JifenImportFunctions calls the xlwings module's ImportPythonUDFs (the UDF Modules key of the xlwings.conf sheet).
Option Explicit

Sub JifenValidate()
    RunPython "import jifen_xl.macros as m; m.validate()"
End Sub

Sub JifenPublish()
    RunPython "import jifen_xl.macros as m; m.publish()"
End Sub

Sub JifenPrintNotice()
    RunPython "import jifen_xl.macros as m; m.print_notice()"
End Sub

Sub JifenClose()
    RunPython "import jifen_xl.macros as m; m.close_month()"
End Sub

Sub JifenShop()
    RunPython "import jifen_xl.macros as m; m.shop()"
End Sub

Sub JifenCards()
    RunPython "import jifen_xl.macros as m; m.print_cards()"
End Sub

Sub JifenSupervise()
    RunPython "import jifen_xl.macros as m; m.supervise()"
End Sub

Sub JifenRollover()
    RunPython "import jifen_xl.macros as m; m.rollover()"
End Sub

Sub JifenImportFunctions()
    ImportPythonUDFs
End Sub
